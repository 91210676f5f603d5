import { Module } from '@nestjs/common';
import { SourceCredentialsUseCase } from './source-credentials.usecase.js';
import { SourcesAdminController } from './sources-admin.controller.js';

@Module({
  controllers: [SourcesAdminController],
  providers: [SourceCredentialsUseCase],
})
export class AdminModule {}
