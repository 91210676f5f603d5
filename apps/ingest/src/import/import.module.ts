import { Module } from '@nestjs/common';
import { TrackingModule } from '../tracking/tracking.module.js';
import { ImportJobsRepository } from './import-jobs.repository.js';
import { ImportsController } from './imports.controller.js';
import { RunImportUseCase } from './run-import.usecase.js';

@Module({
  imports: [TrackingModule],
  controllers: [ImportsController],
  providers: [ImportJobsRepository, RunImportUseCase],
})
export class ImportModule {}
