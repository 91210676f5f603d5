import { Inject, Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import DataLoader from 'dataloader';
import { type Redis } from 'ioredis';

export const DEDUP_WINDOW_SECONDS = Symbol('DEDUP_WINDOW_SECONDS');
/** How long single calls' records wait to be written together (one Redis command and write for all). */
export const RECORD_LINGER_MS = Symbol('RECORD_LINGER_MS');
/** Sets every key given, each expiring after ARGV[1] seconds. */
const REMEMBER_ALL = `for _, key in ipairs(KEYS) do redis.call('SET', key, '1', 'EX', ARGV[1]) end`;

interface RememberRedis extends Redis {
  rememberAll(keyCount: number, ...keysThenSeconds: (string | number)[]): Promise<unknown>;
}

/**
 * The messageIds each source sent within the dedup window (24 h by default). JetStream's own
 * duplicate window covers minutes; this record covers an SDK replaying a day-old queue.
 */
@Injectable()
export class SeenMessagesRepository implements OnModuleDestroy {
  private readonly logger = new Logger(SeenMessagesRepository.name);
  /**
   * Keys of single calls waiting to be recorded (see rememberSoon), and being written: seen already
   * on this replica, so a retry to it meanwhile is kept out here, as before the grouping.
   */
  private pending = new Set<string>();
  private readonly writing = new Set<string>();
  private flushing: Promise<void> | undefined;
  /**
   * Single calls' checks asked in one turn of the event loop go as one MGET: a command each cost
   * ioredis about twice the CPU, even pipelined together.
   */
  private readonly checks = new DataLoader<string, boolean>(
    async (keys) => (await this.redis.mget(keys as string[])).map((value) => value !== null),
    { cache: false, batchScheduleFn: (ask) => setImmediate(ask) },
  );

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DEDUP_WINDOW_SECONDS) private readonly windowSeconds: number,
    @Optional() @Inject(RECORD_LINGER_MS) private readonly lingerMs = 5,
  ) {
    if (!('rememberAll' in redis)) redis.defineCommand('rememberAll', { lua: REMEMBER_ALL });
  }

  async seen(sourceId: string, messageId: string): Promise<boolean> {
    const key = this.key(sourceId, messageId);
    return this.waiting(key) || (await this.checks.load(key)) || this.waiting(key);
  }

  /** One round trip for a whole batch: which of these messageIds were seen (undefined: no id, never seen). */
  async seenMany(sourceId: string, messageIds: (string | undefined)[]): Promise<boolean[]> {
    const keyed = messageIds.flatMap((messageId) =>
      messageId === undefined ? [] : [this.key(sourceId, messageId)],
    );
    if (keyed.length === 0) return messageIds.map(() => false);
    const values = await this.redis.mget(keyed);
    let next = 0;
    return messageIds.map((messageId) => {
      if (messageId === undefined) return false;
      const key = keyed[next]!;
      return values[next++] !== null || this.waiting(key);
    });
  }

  /** Records a batch's stored messageIds with one script (one command, not a SET each). */
  async rememberMany(sourceId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const keys = messageIds.map((messageId) => this.key(sourceId, messageId));
    await (this.redis as RememberRedis).rememberAll(keys.length, ...keys, this.windowSeconds);
  }

  /**
   * Called only once the stream has stored the message, so a failed publish can be retried.
   * Records a stored call's messageId within a few milliseconds (RECORD_LINGER_MS, 5 by default), together with the others stored
   * meanwhile: one Redis command and socket write for all, instead of one each. Until it is written,
   * this replica counts it as seen, and a retry through another replica is kept out by the stream's
   * own duplicate window (minutes, on the envelope id made from source and messageId); a replica that
   * dies in those milliseconds leaves its records unwritten, so only a retry after the stream's
   * window would be taken again. Failures are logged, not thrown: the call is stored either way.
   */
  rememberSoon(sourceId: string, messageId: string): void {
    this.pending.add(this.key(sourceId, messageId));
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, this.lingerMs).unref()).then(() =>
      this.flush(),
    );
  }

  /** Writes the records waiting now (tests and shutdown call it; rememberSoon schedules it). */
  async flush(): Promise<void> {
    const keys = [...this.pending];
    this.pending = new Set();
    this.flushing = undefined;
    if (keys.length === 0) return;
    for (const key of keys) this.writing.add(key);
    try {
      await (this.redis as RememberRedis).rememberAll(keys.length, ...keys, this.windowSeconds);
    } catch (error) {
      this.logger.warn(`could not record ${keys.length} messageIds: ${(error as Error).message}`);
    } finally {
      for (const key of keys) this.writing.delete(key);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.flush();
  }

  private waiting(key: string): boolean {
    return this.pending.has(key) || this.writing.has(key);
  }

  private key(sourceId: string, messageId: string): string {
    return `seen:${sourceId}:${messageId}`;
  }
}
