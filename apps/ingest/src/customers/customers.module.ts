import { Module } from '@nestjs/common';
import { TrackingModule } from '../tracking/tracking.module.js';
import { CustomersController } from './customers.controller.js';

@Module({ imports: [TrackingModule], controllers: [CustomersController] })
export class CustomersModule {}
