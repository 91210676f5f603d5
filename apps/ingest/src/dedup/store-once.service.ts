import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { IngestEnv } from '../config.js';
import { PublishSlots } from './publish-slots.js';
import { SeenMessagesRepository } from './seen-messages.repository.js';

/**
 * Stores one call in the stream once per (source, messageId) within the dedup window. The
 * messageId is recorded only after the stream's ack (a single call's within milliseconds, with the
 * others stored meanwhile: SeenMessagesRepository.rememberSoon), and a publish without an ack by the
 * deadline answers 503, so the client's retry is taken. Envelope ids derive from source and
 * messageId, so the stream's own duplicate window is a second guard (concurrent retries, a late ack
 * of an abandoned publish, a retry before the record is written).
 */
@Injectable()
export class StoreOnceService {
  private readonly slots: PublishSlots;

  constructor(
    private readonly seenMessages: SeenMessagesRepository,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {
    this.slots = new PublishSlots(env.INGEST_PUBLISHES_IN_FLIGHT);
  }

  /** True when the call was new and is now stored; false for a duplicate within the window. */
  async store(
    sourceId: string,
    messageId: string | undefined,
    publish: () => Promise<unknown>,
  ): Promise<boolean> {
    if (messageId !== undefined && (await this.seenMessages.seen(sourceId, messageId))) return false;
    await this.withinDeadline(publish());
    if (messageId !== undefined) this.seenMessages.rememberSoon(sourceId, messageId);
    return true;
  }

  /**
   * `store` for many calls of one source with two Redis round trips in all (MGET before, one
   * pipeline of SETs after) and every publish in flight at once, all within one deadline. A call
   * whose publish failed is not recorded (its retry is taken); the first failure is thrown once
   * the others are settled and recorded.
   */
  async storeMany(
    sourceId: string,
    calls: { messageId: string | undefined; publish: () => Promise<unknown> }[],
  ): Promise<boolean[]> {
    const seen = await this.seenMessages.seenMany(
      sourceId,
      calls.map((call) => call.messageId),
    );
    const fresh = calls.filter((_call, index) => !seen[index]);
    const settled = await this.withinDeadline(
      Promise.allSettled(fresh.map((call) => this.slots.run(call.publish))),
    );
    const stored = fresh.flatMap((call, index) =>
      settled[index]!.status === 'fulfilled' && call.messageId !== undefined ? [call.messageId] : [],
    );
    await this.seenMessages.rememberMany(sourceId, stored);
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    return seen.map((wasSeen) => !wasSeen);
  }

  /** Waits for the stream's ack, at most INGEST_PUBLISH_DEADLINE_MS. */
  async withinDeadline<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ServiceUnavailableException({
              error: 'unavailable',
              message: 'the event could not be stored in time; retry it with the same messageId',
            }),
          ),
        this.env.INGEST_PUBLISH_DEADLINE_MS,
      );
    });
    // The abandoned publish may still fail later; nobody waits for it any more.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
