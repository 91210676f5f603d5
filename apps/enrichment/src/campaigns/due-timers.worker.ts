import { Inject, Injectable } from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';
import { Clock } from '../shared/clock.js';
import { DueWorkPoller } from '../shared/due-work-poller.js';
import { CampaignTimers } from './campaign-timers.js';
import { FireDueTimerUseCase } from './fire-due-timer.usecase.js';

/** Polls the timer set and fires what is due; every replica runs one, each timer is claimed once. */
@Injectable()
export class DueTimersWorker extends DueWorkPoller<string> {
  constructor(
    private readonly timers: CampaignTimers,
    private readonly fire: FireDueTimerUseCase,
    clock: Clock,
    @Inject(EnrichmentEnv) env: EnrichmentEnv,
  ) {
    super('campaign timers', clock, env.CAMPAIGN_TIMER_POLL_MS);
  }

  protected claimDue(now: number, leaseUntil: number, limit: number): Promise<string[]> {
    return this.timers.claimDue(now, leaseUntil, limit);
  }

  protected async work(timerId: string): Promise<void> {
    await this.fire.execute(timerId);
  }
}
