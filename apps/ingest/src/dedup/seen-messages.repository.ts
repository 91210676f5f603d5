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

  /** One round trip for a whole batch: which of these messageIds were seen (undefined: no id, never seen). */
  async seenMany(sourceId: string, messageIds: (string | undefined)[]): Promise<boolean[]> {
    const keyed = messageIds.flatMap((messageId) =>
      messageId === undefined ? [] : [this.key(sourceId, messageId)],
    );
    if (keyed.length === 0) return messageIds.map(() => false);
    const values = await this.redis.mget(keyed);
    let next = 0;
    return messageIds.map((messageId) => messageId !== undefined && values[next++] !== null);
  }

  /** Records a batch's stored messageIds in one pipelined round trip. */
  async rememberMany(sourceId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const messageId of messageIds)
      pipeline.set(this.key(sourceId, messageId), '1', 'EX', this.windowSeconds);
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0]!;
  }

  /** Called only once the stream has stored the message, so a failed publish can be retried. */
  async remember(sourceId: string, messageId: string): Promise<void> {
    await this.redis.set(this.key(sourceId, messageId), '1', 'EX', this.windowSeconds);
  }

  private key(sourceId: string, messageId: string): string {
    return `seen:${sourceId}:${messageId}`;
  }
}
