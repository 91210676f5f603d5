import { Module } from '@nestjs/common';
import { EraseRequestedHandler } from '../privacy/erase-requested.handler.js';
import { EraseSamplesUseCase } from '../privacy/erase-samples.usecase.js';
import { RenderingModule } from '../rendering/rendering.module.js';
import { PreviewController } from './preview.controller.js';
import { PreviewSamplesRepository } from './preview-samples.repository.js';

/** Previews and the preview samples they read, and the erasure of those samples. */
@Module({
  imports: [RenderingModule],
  controllers: [PreviewController, EraseRequestedHandler],
  providers: [PreviewSamplesRepository, EraseSamplesUseCase],
})
export class PreviewModule {}
