import { Module } from '@nestjs/common';
import { DeferralWakeups } from './deferral-wakeups.js';
import { DeferralsRepository } from './deferrals.repository.js';
import { HoldWindows } from './hold-windows.js';

@Module({
  providers: [DeferralsRepository, DeferralWakeups, HoldWindows],
  exports: [DeferralsRepository, DeferralWakeups, HoldWindows],
})
export class DeferralsModule {}
