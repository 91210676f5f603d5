import { randomUUID } from 'node:crypto';
import { type AnyBulkWriteOperation, type Collection, MongoBulkWriteError, type WithId } from 'mongodb';

/**
 * A versioned document: `version` is the optimistic lock, `writeId` tells whose write is stored,
 * `applied` the ids of the last messages whose writes it holds (kept by later writes).
 */
export interface Versioned {
  _id: string;
  version: number;
  writeId?: string;
  applied?: string[];
}

/**
 * What became of a write: `written`, this very document is (or was) stored; `landed`, its message
 * is applied in what is stored now, but the content may be another writer's (a later version built
 * on it, or the same message written by another replica): durable, yet not to be taken as what is
 * stored; `lost`, it did not land (another writer came first: read again and retry).
 */
export type WriteOutcome = 'written' | 'landed' | 'lost';

export interface Pending<T extends Versioned> {
  document: T;
  /** 0: the document must not exist yet (insert), else the version it must still have (replace). */
  expectedVersion: number;
  /** The message this write applies (in `document.applied`), if any. */
  messageId: string | undefined;
  resolve: (outcome: WriteOutcome) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;
const DUPLICATE_KEY = 11000;

/**
 * Group commit: conditional writes from many concurrent callers go to the database as one
 * `bulkWrite` (an insert and an update command at most), one batch in flight at a time, so a burst
 * of events costs a few commands rather than one each. Each caller learns whether its own write
 * landed: an insert that meets a duplicate `_id`, or a replace whose version moved, did not (another
 * writer came first: read again and retry).
 */
export class GroupCommit<T extends Versioned> {
  private queue: Pending<T>[] = [];
  private flushing = false;

  constructor(private readonly collection: Collection<T>) {}

  /**
   * Resolves once the write is durable (`written` or `landed`), or known not to have landed (`lost`).
   * `messageId` names the message the write applies (it must be in `document.applied`): a replace
   * that later writes covered is still known to have landed by it.
   */
  write(document: T, expectedVersion: number, messageId?: string): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        document: { ...document, writeId: randomUUID() },
        expectedVersion,
        messageId,
        resolve,
        reject,
      });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) await this.commit(this.queue.splice(0, MAX_BATCH));
    this.flushing = false;
  }

  private async commit(batch: Pending<T>[]): Promise<void> {
    const operations = batch.map(({ document, expectedVersion }): AnyBulkWriteOperation<T> => {
      if (expectedVersion === 0) return { insertOne: { document: document as never } };
      const filter = { _id: document._id, version: expectedVersion } as never;
      return { replaceOne: { filter, replacement: document } };
    });
    const failed = new Map<number, { code?: number; message: string }>();
    let matched: number;
    try {
      matched = (await this.collection.bulkWrite(operations, { ordered: false })).matchedCount;
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) {
        // Whether any of them was written is unknown: every caller retries, and finds out by reading.
        for (const pending of batch) pending.reject(error);
        return;
      }
      const writeErrors = (
        Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]
      ) as Array<{
        index: number;
        code?: number;
        errmsg?: string;
      }>;
      for (const { index, code, errmsg } of writeErrors)
        failed.set(index, { ...(code === undefined ? {} : { code }), message: errmsg ?? error.message });
      matched = error.matchedCount;
    }
    const replaces = batch.flatMap((pending, index) =>
      pending.expectedVersion > 0 && !failed.has(index) ? [pending] : [],
    );
    // A bulk write counts the replaces that matched, not which: only when some missed is each checked.
    let outcomes: Map<Pending<T>, WriteOutcome> | undefined;
    if (matched !== replaces.length) {
      try {
        outcomes = await this.check(replaces);
      } catch (error) {
        // Whether they landed is unknown: their callers retry, and find out by reading.
        for (const pending of replaces) pending.reject(error);
        outcomes = new Map();
      }
    }
    batch.forEach((pending, index) => {
      const failure = failed.get(index);
      if (failure?.code === DUPLICATE_KEY) pending.resolve('lost');
      else if (failure) pending.reject(new Error(failure.message));
      else if (pending.expectedVersion === 0) pending.resolve('written');
      else if (!outcomes) pending.resolve('written');
      else {
        const outcome = outcomes.get(pending);
        if (outcome) pending.resolve(outcome);
      }
    });
  }

  /**
   * What became of each of these replaces, read back by `_id` (one read each). The stored write id
   * says `written`; but another writer may have replaced the document since (it read this version and
   * wrote the next one), so a version past the one expected that still lists the write's message as
   * applied says `landed`: judging by the write id alone would call a landed write lost.
   */
  protected async check(replaces: Pending<T>[]): Promise<Map<Pending<T>, WriteOutcome>> {
    const found = await Promise.all(
      replaces.map(({ document }) =>
        this.collection.findOne({ _id: document._id } as never, {
          projection: { writeId: 1, version: 1, applied: 1 },
        }),
      ),
    );
    return new Map(
      replaces.map((pending, index): [Pending<T>, WriteOutcome] => {
        const stored = found[index] as WithId<T> | null;
        if (!stored) return [pending, 'lost'];
        if (stored.writeId === pending.document.writeId) return [pending, 'written'];
        const landed =
          pending.messageId !== undefined &&
          stored.version > pending.expectedVersion &&
          (stored.applied ?? []).includes(pending.messageId);
        return [pending, landed ? 'landed' : 'lost'];
      }),
    );
  }
}
