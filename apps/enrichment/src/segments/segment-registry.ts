import { Injectable, type OnModuleInit } from '@nestjs/common';
import { evaluate, type RuleContext } from '../rules/rule.js';
import { type Segment } from './segment.js';
import { SegmentsRepository } from './segments.repository.js';

/** How stale another replica's segment changes may be here. */
const REFRESH_MS = 5_000;

/** The segment definitions in memory, so each event is evaluated without a database read. */
@Injectable()
export class SegmentRegistry implements OnModuleInit {
  private segments: Segment[] = [];
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(private readonly repository: SegmentsRepository) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  async reload(): Promise<void> {
    this.loading ??= this.repository
      .all()
      .then((segments) => {
        this.segments = segments;
        this.loadedAt = Date.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    await this.loading;
  }

  async current(): Promise<readonly Segment[]> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.reload();
    return this.segments;
  }

  /** Ids of the segments the context belongs to, sorted. */
  async membership(context: RuleContext): Promise<string[]> {
    const segments = await this.current();
    return segments
      .filter((segment) => evaluate(segment.rule, context))
      .map((segment) => segment.segmentId)
      .sort();
  }
}
