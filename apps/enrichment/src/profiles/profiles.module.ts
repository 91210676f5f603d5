import { Module } from '@nestjs/common';
import { ApplyEventUseCase } from './apply-event.usecase.js';
import { ProfilesRepository } from './profiles.repository.js';
import { ResolvedEventHandler } from './resolved-event.handler.js';

@Module({
  controllers: [ResolvedEventHandler],
  providers: [ProfilesRepository, ApplyEventUseCase],
})
export class ProfilesModule {}
