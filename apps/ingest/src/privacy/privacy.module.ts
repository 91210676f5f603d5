import { type DynamicModule, Module } from '@nestjs/common';
import { type ServiceName } from '@mesh/contracts';
import { type IngestEnv } from '../config.js';
import { EraseDoneHandler } from './erase-done.handler.js';
import { EraseRequestsRepository } from './erase-requests.repository.js';
import { ERASING_SERVICES, PrivacyController } from './privacy.controller.js';
import { RecordConsentUseCase } from './record-consent.usecase.js';
import { RequestErasureUseCase } from './request-erasure.usecase.js';

@Module({})
export class PrivacyModule {
  static forRoot(env: IngestEnv): DynamicModule {
    return {
      module: PrivacyModule,
      controllers: [PrivacyController, EraseDoneHandler],
      providers: [
        EraseRequestsRepository,
        RecordConsentUseCase,
        RequestErasureUseCase,
        { provide: ERASING_SERVICES, useValue: env.INGEST_ERASING_SERVICES as ServiceName[] },
      ],
    };
  }
}
