import { Module } from '@nestjs/common';
import { IdentityGraphRepository } from './identity-graph.repository.js';
import { IngestedEventHandler } from './ingested-event.handler.js';
import { ResolveEventUseCase } from './resolve-event.usecase.js';

@Module({
  controllers: [IngestedEventHandler],
  providers: [IdentityGraphRepository, ResolveEventUseCase],
})
export class ResolutionModule {}
