import { Injectable, type OnModuleInit } from '@nestjs/common';
import { evaluate, type RuleContext } from '../rules/rule.js';
import { ChangeNotices } from '@mesh/storage';
import { type Segment } from './segment.js';
import { SegmentsRepository } from './segments.repository.js';

const TOPIC = 'segments';

/**
 * The segment definitions in memory, so each event is evaluated without a database read: read whole
 * at boot and again when any replica changes one (a change notice, or its counter found moved by the 30 s
 * check in Redis when a notice was missed), never per event nor by polling the store.
 */
@Injectable()
export class SegmentRegistry implements OnModuleInit {
  private segments: Segment[] = [];
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: SegmentsRepository,
    private readonly notices: ChangeNotices,
  ) {}

  async onModuleInit(): Promise<void> {
    // Subscribed first: a change stored while the boot read runs is then heard, not missed.
    await this.notices.listen(TOPIC, () => this.reload());
    await this.reload();
  }

  /** Reads the segments again, after any read already under way (it may predate the change). */
  reload(): Promise<void> {
    const load = async () => {
      this.segments = await this.repository.all();
    };
    this.loading = this.loading.catch(() => undefined).then(load);
    return this.loading;
  }

  /** After a change to the stored segments: this replica reloads, and tells the others to. */
  async changed(): Promise<void> {
    await this.reload();
    await this.notices.announce(TOPIC);
  }

  current(): readonly Segment[] {
    return this.segments;
  }

  /** Ids of the segments the context belongs to, sorted. */
  membership(context: RuleContext): string[] {
    return this.segments
      .filter((segment) => evaluate(segment.rule, context))
      .map((segment) => segment.segmentId)
      .sort();
  }
}
