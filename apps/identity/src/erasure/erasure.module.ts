import { DuplicatesRepository } from '../duplicates/duplicates.repository.js';
import { Module } from '@nestjs/common';
import { IdentityGraphRepository } from '../resolution/identity-graph.repository.js';
import { ErasePersonUseCase } from './erase-person.usecase.js';
import { EraseRequestedHandler } from './erase-requested.handler.js';

@Module({
  controllers: [EraseRequestedHandler],
  providers: [IdentityGraphRepository, DuplicatesRepository, ErasePersonUseCase],
})
export class ErasureModule {}
