import { Module } from '@nestjs/common';
import { ConsentEventsHandler } from '../consent/consent-events.handler.js';
import { ConsentRepository } from './consent.repository.js';
import { DecideSendUseCase } from './decide-send.usecase.js';
import { FrequencyCapsRepository } from './frequency-caps.repository.js';
import { SuppressionRepository } from './suppression.repository.js';
import { SuppressionsAdminController } from './suppressions-admin.controller.js';

/** The decision point and the state it decides on: consent view, suppression list, caps. */
@Module({
  controllers: [ConsentEventsHandler, SuppressionsAdminController],
  providers: [ConsentRepository, SuppressionRepository, FrequencyCapsRepository, DecideSendUseCase],
  exports: [ConsentRepository, SuppressionRepository, FrequencyCapsRepository, DecideSendUseCase],
})
export class DecisionsModule {}
