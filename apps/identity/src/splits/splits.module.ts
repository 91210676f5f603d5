import { type DynamicModule, Module } from '@nestjs/common';
import { IdentityGraphRepository } from '../resolution/identity-graph.repository.js';
import { SplitMergeUseCase } from './split-merge.usecase.js';
import { SplitsController } from './splits.controller.js';

@Module({})
export class SplitsModule {
  static forRoot(): DynamicModule {
    return {
      module: SplitsModule,
      controllers: [SplitsController],
      providers: [IdentityGraphRepository, SplitMergeUseCase],
    };
  }
}
