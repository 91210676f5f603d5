import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { IngestEnv } from '../config.js';
import { SeenMessagesRepository } from './seen-messages.repository.js';

/**
 * Stores one call in the stream once per (source, messageId) within the dedup window. The
 * messageId is recorded only after the stream's ack, and a publish without an ack by the deadline
 * answers 503, so the client's retry is taken. Envelope ids derive from source and messageId, so
 * the stream's own duplicate window is a second guard (concurrent retries, a late ack of an
 * abandoned publish).
 */
@Injectable()
export class StoreOnceService {
  constructor(
    private readonly seenMessages: SeenMessagesRepository,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {}

  /** True when the call was new and is now stored; false for a duplicate within the window. */
  async store(
    sourceId: string,
    messageId: string | undefined,
    publish: () => Promise<unknown>,
  ): Promise<boolean> {
    if (messageId !== undefined && (await this.seenMessages.seen(sourceId, messageId))) return false;
    await this.withinDeadline(publish());
    if (messageId !== undefined) await this.seenMessages.remember(sourceId, messageId);
    return true;
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
