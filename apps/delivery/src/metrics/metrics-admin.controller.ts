import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { AdminTokenGuard } from '@mesh/runtime';
import { type Granularity, type MetricRow, MetricsRepository } from './metrics.repository.js';

export class CampaignParamDto {
  @IsString() @Length(1, 128) campaignId!: string;
}

export class MetricsQueryDto {
  @IsOptional() @IsIn(['hour', 'day']) granularity?: Granularity;
  /** Facts at or after this instant. */
  @IsOptional() @IsISO8601({ strict: true }) from?: string;
  /** Facts before this instant. */
  @IsOptional() @IsISO8601({ strict: true }) to?: string;
}

export interface Counts {
  sent: number;
  /** Sent and not bounced (the SMTP server or the ESP took it and did not report a bounce). */
  delivered: number;
  failed: number;
  bounced: number;
  bouncedHard: number;
  bouncedSoft: number;
  /** Unique: emails opened at least once (counted in the bucket of the first open). */
  opened: number;
  /** Unique: emails with at least one click. */
  clicked: number;
  /** All opens (at most one per email and minute: image proxies refetch) and all clicks. */
  opens: number;
  clicks: number;
  /** Unique clicks ÷ delivered, unique clicks ÷ unique opens, conversions ÷ delivered (0 when undefined). */
  ctr: number;
  clickToOpen: number;
  conversionRate: number;
  unsubscribed: number;
  complained: number;
  converted: number;
  /** Revenue of the converted orders, by currency. */
  revenue: Record<string, number>;
  /** By reason code, e.g. `suppressed/hard_bounce`, `frequency_capped/daily_cap`, `no_consent/opted_out`. */
  skipped: Record<string, number>;
  /** By reason code: `quiet_hours`, `smtp_retry`. */
  deferred: Record<string, number>;
}

const empty = (): Counts => ({
  sent: 0,
  delivered: 0,
  failed: 0,
  bounced: 0,
  bouncedHard: 0,
  bouncedSoft: 0,
  opened: 0,
  clicked: 0,
  opens: 0,
  clicks: 0,
  ctr: 0,
  clickToOpen: 0,
  conversionRate: 0,
  unsubscribed: 0,
  complained: 0,
  converted: 0,
  revenue: {},
  skipped: {},
  deferred: {},
});

function add(counts: Counts, row: MetricRow): void {
  switch (row.metric) {
    case 'converted':
      counts.converted += row.count;
      counts.revenue[row.reason] = round((counts.revenue[row.reason] ?? 0) + row.value);
      break;
    case 'skipped':
    case 'deferred':
      counts[row.metric][row.reason] = (counts[row.metric][row.reason] ?? 0) + row.count;
      break;
    case 'bounced':
      counts.bounced += row.count;
      if (row.reason === 'hard') counts.bouncedHard += row.count;
      else counts.bouncedSoft += row.count;
      break;
    case 'open_events':
      counts.opens += row.count;
      break;
    case 'click_events':
      counts.clicks += row.count;
      break;
    case 'sent':
    case 'failed':
    case 'opened':
    case 'clicked':
    case 'unsubscribed':
    case 'complained':
      counts[row.metric] += row.count;
      break;
  }
  counts.delivered = Math.max(0, counts.sent - counts.bounced);
  counts.ctr = ratio(counts.clicked, counts.delivered);
  counts.clickToOpen = ratio(counts.clicked, counts.opened);
  counts.conversionRate = ratio(counts.converted, counts.delivered);
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1e4) / 1e4);

const round = (amount: number) => Math.round(amount * 1e6) / 1e6;

export interface CampaignMetrics {
  campaignId: string;
  granularity: Granularity;
  totals: Counts;
  variants: { variant: string | null; totals: Counts; buckets: ({ start: string } & Counts)[] }[];
}

/** Per campaign, per variant and per hour or day: what was sent and what came of it. */
@Controller('admin/campaigns')
@UseGuards(AdminTokenGuard)
export class MetricsAdminController {
  constructor(private readonly metrics: MetricsRepository) {}

  @Get(':campaignId/metrics')
  async campaign(
    @Param() params: CampaignParamDto,
    @Query() query: MetricsQueryDto,
  ): Promise<CampaignMetrics> {
    const granularity = query.granularity ?? 'day';
    const rows = await this.metrics.rows(
      params.campaignId,
      granularity,
      query.from ? new Date(query.from) : undefined,
      query.to ? new Date(query.to) : undefined,
    );
    const totals = empty();
    const variants = new Map<string, { totals: Counts; buckets: Map<string, Counts> }>();
    for (const row of rows) {
      add(totals, row);
      const variant = variants.get(row.variant) ?? { totals: empty(), buckets: new Map<string, Counts>() };
      variants.set(row.variant, variant);
      add(variant.totals, row);
      const bucket = variant.buckets.get(row.bucket) ?? empty();
      variant.buckets.set(row.bucket, bucket);
      add(bucket, row);
    }
    return {
      campaignId: params.campaignId,
      granularity,
      totals,
      variants: [...variants.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([variant, { totals: variantTotals, buckets }]) => ({
          variant: variant === '' ? null : variant,
          totals: variantTotals,
          buckets: [...buckets.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([start, counts]) => ({ start, ...counts })),
        })),
    };
  }
}
