import { type DynamicModule, Module } from '@nestjs/common';
import { ADMIN_TOKEN, AdminTokenGuard } from '../profiles/admin-token.guard.js';
import { SplitMergeUseCase } from './split-merge.usecase.js';
import { SplitsController } from './splits.controller.js';

@Module({})
export class SplitsModule {
  static forRoot(adminToken: string): DynamicModule {
    return {
      module: SplitsModule,
      controllers: [SplitsController],
      providers: [SplitMergeUseCase, AdminTokenGuard, { provide: ADMIN_TOKEN, useValue: adminToken }],
    };
  }
}
