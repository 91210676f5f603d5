import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

export const DEDUP_WINDOW_SECONDS = Symbol('DEDUP_WINDOW_SECONDS');

/**
 * The messageIds each source sent within the dedup window (24 h by default). JetStream's own
 * duplicate window covers minutes; this record covers an SDK replaying a day-old queue.
 */
@Injectable()
export class SeenMessagesRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DEDUP_WINDOW_SECONDS) private readonly windowSeconds: number,
  ) {}

  async seen(sourceId: string, messageId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(sourceId, messageId))) === 1;
  }

  /** Called only once the stream has stored the message, so a failed publish can be retried. */
  async remember(sourceId: string, messageId: string): Promise<void> {
    await this.redis.set(this.key(sourceId, messageId), '1', 'EX', this.windowSeconds);
  }

  private key(sourceId: string, messageId: string): string {
    return `seen:${sourceId}:${messageId}`;
  }
}
