import { Module } from '@nestjs/common';
import { DeferralWakeups } from './deferral-wakeups.js';
import { DeferralsRepository } from './deferrals.repository.js';

@Module({
  providers: [DeferralsRepository, DeferralWakeups],
  exports: [DeferralsRepository, DeferralWakeups],
})
export class DeferralsModule {}
