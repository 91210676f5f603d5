import { Module } from '@nestjs/common';
import { IdentityGraphRepository } from '../resolution/identity-graph.repository.js';
import { ErasePersonUseCase } from './erase-person.usecase.js';
import { EraseRequestedHandler } from './erase-requested.handler.js';

@Module({
  controllers: [EraseRequestedHandler],
  providers: [IdentityGraphRepository, ErasePersonUseCase],
})
export class ErasureModule {}
