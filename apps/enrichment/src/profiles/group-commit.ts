import { randomUUID } from 'node:crypto';
import { type AnyBulkWriteOperation, type Collection, MongoBulkWriteError, type WithId } from 'mongodb';

/** A versioned document: `version` is the optimistic lock, `writeId` tells whose write landed. */
export interface Versioned {
  _id: string;
  version: number;
  writeId?: string;
}

interface Pending<T extends Versioned> {
  document: T;
  /** 0: the document must not exist yet (insert), else the version it must still have (replace). */
  expectedVersion: number;
  resolve: (written: boolean) => void;
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

  /** Resolves once the write is durable (true), or known not to have landed (false). */
  write(document: T, expectedVersion: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ document: { ...document, writeId: randomUUID() }, expectedVersion, resolve, reject });
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
    const landed = matched === replaces.length ? undefined : await this.landed(replaces);
    batch.forEach((pending, index) => {
      const failure = failed.get(index);
      if (failure?.code === DUPLICATE_KEY) pending.resolve(false);
      else if (failure) pending.reject(new Error(failure.message));
      else if (pending.expectedVersion === 0) pending.resolve(true);
      else pending.resolve(landed?.has(pending.document.writeId!) ?? true);
    });
  }

  /** The write ids among these that are in the database now (one read by `_id` each). */
  private async landed(replaces: Pending<T>[]): Promise<Set<string>> {
    const found = await Promise.all(
      replaces.map(({ document }) =>
        this.collection.findOne({ _id: document._id } as never, { projection: { writeId: 1 } }),
      ),
    );
    return new Set(
      found.flatMap((document: WithId<T> | null) => (document?.writeId ? [document.writeId] : [])),
    );
  }
}
