import { Inject, Injectable } from '@nestjs/common';
import { type DeferReason, type Envelope, type RenderedEmailPayload, type SkipReason } from '@mesh/contracts';
import { DeliveryEnv } from '../config.js';
import { ConsentRepository } from './consent.repository.js';
import { FrequencyCapsRepository } from './frequency-caps.repository.js';
import { isTimeZone, parseQuietHours, type QuietHours, quietHoursEnd } from './quiet-hours.js';
import { SuppressionRepository } from './suppression.repository.js';

export type Decision =
  | { readonly kind: 'send' }
  /** Held back for the priority window: decided later with the profile's other emails of the window. */
  | { readonly kind: 'hold' }
  | { readonly kind: 'skip'; readonly reason: SkipReason; readonly detail?: string }
  | { readonly kind: 'defer'; readonly until: Date; readonly reason: DeferReason };

/** How a send is being decided. */
export interface DecideOptions {
  /**
   * Released from the deferral store (after quiet hours, a 4xx retry or the priority window): decided
   * now, in priority order, never held again.
   */
  readonly released?: boolean;
  /**
   * A campaign of higher priority released in the same run has just taken one of this profile's
   * slots: a daily cap now full is reported as `lower_priority`.
   */
  readonly outranked?: boolean;
}

/** The smaller of two caps where 0 means none. */
const tighter = (a: number, b: number) => (a === 0 ? b : b === 0 ? a : Math.min(a, b));

/**
 * The one decision point every rendered email passes: suppression list, consent (delivery's own
 * view), quiet hours in the recipient's time zone, then the frequency caps (a send that passes takes
 * its slot). Transactional email skips consent, quiet hours and caps, and only an unsubscribe
 * does not stop it.
 *
 * Priority when caps collide: an email a daily cap applies to is first held for
 * DELIVERY_PRIORITY_WINDOW_MS (durably, in the deferral store) with the profile's other emails
 * arriving within the window; the group is then decided highest priority first and the losers are
 * skipped `frequency_capped` / `lower_priority`. An email already sent before a more important one
 * arrived (outside its window) cannot be recalled: across windows it is first come, first served.
 */
@Injectable()
export class DecideSendUseCase {
  private readonly quietHours: QuietHours | undefined;

  constructor(
    private readonly consents: ConsentRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly caps: FrequencyCapsRepository,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {
    this.quietHours = parseQuietHours(env.DELIVERY_QUIET_HOURS);
  }

  async execute(
    envelope: Envelope<RenderedEmailPayload>,
    sendKey: string,
    now: Date,
    options: DecideOptions = {},
  ): Promise<Decision> {
    const email = envelope.data;
    const profileId = envelope.profileId!;
    const transactional = email.campaign.sendPolicy.transactional;

    // Both lookups at once (one round trip's wait instead of two); consent only matters for marketing.
    const [suppression, consent] = await Promise.all([
      this.suppressions.find(email.to),
      transactional ? undefined : this.consents.find(profileId),
    ]);
    if (suppression && !(transactional && suppression.reason === 'unsubscribe')) {
      return suppression.reason === 'erased'
        ? { kind: 'skip', reason: 'erased' }
        : { kind: 'skip', reason: 'suppressed', detail: suppression.reason };
    }
    if (transactional) return { kind: 'send' };

    if (consent?.status === 'opted_out') return { kind: 'skip', reason: 'no_consent', detail: 'opted_out' };
    if (this.env.DELIVERY_REQUIRE_OPT_IN && consent?.status !== 'opted_in')
      return { kind: 'skip', reason: 'no_consent', detail: 'no_opt_in' };

    const timeZone = this.timeZoneOf(email.recipient);
    if (this.quietHours && timeZone) {
      const until = quietHoursEnd(now, timeZone, this.quietHours);
      if (until) return { kind: 'defer', until, reason: 'quiet_hours' };
    }

    const perDay = tighter(this.env.DELIVERY_CAP_PER_DAY, email.campaign.sendPolicy.maxPerDay);
    // Only a daily cap is shared across campaigns (the weekly one is per campaign): only it can collide.
    if (perDay > 0 && this.env.DELIVERY_PRIORITY_WINDOW_MS > 0 && !options.released) return { kind: 'hold' };

    const verdict = await this.caps.reserve({
      profileId,
      campaignId: email.campaign.campaignId,
      sendKey,
      perDay,
      perCampaignWeek: this.env.DELIVERY_CAP_PER_CAMPAIGN_WEEK,
      now,
    });
    if (verdict === 'reserved') return { kind: 'send' };
    const detail = verdict === 'daily_cap' && options.outranked ? 'lower_priority' : verdict;
    return { kind: 'skip', reason: 'frequency_capped', detail };
  }

  private timeZoneOf(recipient: Record<string, unknown> | undefined): string | undefined {
    const own = recipient?.timezone;
    if (isTimeZone(own)) return own;
    return isTimeZone(this.env.DELIVERY_DEFAULT_TIMEZONE) ? this.env.DELIVERY_DEFAULT_TIMEZONE : undefined;
  }
}
