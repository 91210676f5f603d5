import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { SourceCredentialsUseCase } from './source-credentials.usecase.js';
import { SourcesAdminController } from './sources-admin.controller.js';

@Module({
  controllers: [SourcesAdminController],
  providers: [AdminTokenGuard, SourceCredentialsUseCase],
})
export class AdminModule {}
