import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db, MongoServerError } from 'mongodb';

export const METRICS = [
  'sent',
  'failed',
  'bounced',
  'opened',
  'clicked',
  'open_events',
  'click_events',
  'unsubscribed',
  'complained',
  'converted',
  'skipped',
  'deferred',
] as const;
export type Metric = (typeof METRICS)[number];
export type Granularity = 'hour' | 'day';

/** Separates the parts of a bucket key (variant names and reasons never contain it). */
const SEP = '\u001f';
const DUPLICATE_KEY = 11000;

/** One counted fact; `_id` says what makes it unique, so counting it again changes nothing. */
export interface MetricFact {
  /** e.g. `opened:<send id>` (unique opens), `converted:<order id>`, `skipped:<message id>`. */
  key: string;
  campaignId: string;
  variant?: string;
  metric: Metric;
  /** A reason code (skips, deferrals, bounce kind) or the currency (conversions); '' otherwise. */
  reason?: string;
  /** Revenue, for conversions. */
  value?: number;
  at: Date;
}

interface MetricDocument {
  _id: string;
  campaignId: string;
  variant: string;
  metric: Metric;
  reason: string;
  value: number;
  at: Date;
  /** Precomputed group keys `variant␟bucket start␟metric␟reason` (FerretDB groups by a field path). */
  hourKey: string;
  dayKey: string;
  schemaVersion: 1;
}

export interface MetricRow {
  variant: string;
  bucket: string;
  metric: Metric;
  reason: string;
  count: number;
  value: number;
}

/**
 * Campaign metrics as one document per counted fact, keyed by what makes it unique: a redelivered
 * event upserts the same document, so nothing is counted twice. Read by grouping on a bucket key.
 */
@Injectable()
export class MetricsRepository implements OnModuleInit {
  private readonly facts: Collection<MetricDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.facts = db.collection<MetricDocument>('metric_facts');
  }

  async onModuleInit(): Promise<void> {
    await this.facts.createIndex({ campaignId: 1, at: 1 });
  }

  async count(fact: MetricFact): Promise<void> {
    const variant = fact.variant ?? '';
    const reason = fact.reason ?? '';
    const iso = fact.at.toISOString();
    const hour = `${iso.slice(0, 13)}:00:00.000Z`;
    const day = `${iso.slice(0, 10)}T00:00:00.000Z`;
    // One insert (a duplicate key is the fact counted before): no read first, one write.
    try {
      await this.facts.insertOne({
        _id: fact.key,
        campaignId: fact.campaignId,
        variant,
        metric: fact.metric,
        reason,
        value: fact.value ?? 0,
        at: fact.at,
        hourKey: [variant, hour, fact.metric, reason].join(SEP),
        dayKey: [variant, day, fact.metric, reason].join(SEP),
        schemaVersion: 1,
      });
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
    }
  }

  async rows(campaignId: string, granularity: Granularity, from?: Date, to?: Date): Promise<MetricRow[]> {
    const at = { ...(from ? { $gte: from } : {}), ...(to ? { $lt: to } : {}) };
    const match = { campaignId, ...(from || to ? { at } : {}) };
    const field = granularity === 'hour' ? 'hourKey' : 'dayKey';
    const grouped = await this.facts
      .aggregate<{ _id: string; count: number }>([
        { $match: match },
        { $group: { _id: `$${field}`, count: { $sum: 1 } } },
      ])
      .toArray();
    // Revenue is summed here: FerretDB 1.24's $group answered 0 for `$sum: '$value'` on doubles.
    // Conversions are few next to sends, so reading them is cheap.
    const values = new Map<string, number>();
    const converted = this.facts.find(
      { ...match, metric: 'converted' },
      { projection: { [field]: 1, value: 1 } },
    );
    for await (const fact of converted)
      values.set(fact[field], (values.get(fact[field]) ?? 0) + (fact.value ?? 0));
    return grouped.map((group) => {
      const [variant = '', bucket = '', metric, reason = ''] = group._id.split(SEP);
      return {
        variant,
        bucket,
        metric: metric as Metric,
        reason,
        count: group.count,
        value: values.get(group._id) ?? 0,
      };
    });
  }
}
