import { Module } from '@nestjs/common';
import { SendsAdminController } from './sends-admin.controller.js';
import { SendingModule } from '../sending/sending.module.js';
import { ReconcileSendsService } from './reconcile-sends.service.js';

@Module({
  imports: [SendingModule],
  controllers: [SendsAdminController],
  providers: [ReconcileSendsService],
})
export class ReconciliationModule {}
