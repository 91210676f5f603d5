import { type DynamicModule, Module } from '@nestjs/common';
import { SplitMergeUseCase } from './split-merge.usecase.js';
import { SplitsController } from './splits.controller.js';

@Module({})
export class SplitsModule {
  static forRoot(): DynamicModule {
    return {
      module: SplitsModule,
      controllers: [SplitsController],
      providers: [SplitMergeUseCase],
    };
  }
}
