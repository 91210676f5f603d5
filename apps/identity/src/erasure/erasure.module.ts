import { DuplicatesRepository } from '../duplicates/duplicates.repository.js';
import { Module } from '@nestjs/common';
import { ErasePersonUseCase } from './erase-person.usecase.js';
import { EraseRequestedHandler } from './erase-requested.handler.js';

@Module({
  controllers: [EraseRequestedHandler],
  providers: [DuplicatesRepository, ErasePersonUseCase],
})
export class ErasureModule {}
