import { MongoBulkWriteError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';
import { retryBusy } from '../shared/retry-busy.js';

/**
 * One write at a time from this process: SQLite lets one writer in and answers the others
 * SQLITE_BUSY, so this process's writers queue here instead of retrying against each other.
 */
export class WriteLane {
  private tail: Promise<unknown> = Promise.resolve();

  run<R>(write: () => Promise<R>): Promise<R> {
    const result = this.tail.then(write, write);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export type InsertOutcome = 'inserted' | 'duplicate';

interface Pending<T> {
  document: T;
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

/**
 * Group commit: inserts from many concurrent callers go to the database as one `insertMany` (one SQL
 * transaction under FerretDB), one batch in flight at a time; each caller learns its own outcome. A
 * duplicate `_id` is an outcome, not an error (it is how writers detect that someone came first).
 */
export class GroupCommit<T extends Document & { _id: string }> {
  private queue: Pending<T>[] = [];
  private flushing = false;

  constructor(
    private readonly collection: Collection<T>,
    private readonly lane: WriteLane,
  ) {}

  /** Whether inserts are waiting or being written (the checkpointer gives way to them). */
  get busy(): boolean {
    return this.flushing;
  }

  /** When the last batch was written (epoch ms; 0 before the first). */
  lastWriteAt = 0;

  insert(document: T): Promise<InsertOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ document, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      await this.lane.run(() => this.write(batch));
    }
    this.lastWriteAt = Date.now();
    this.flushing = false;
  }

  private async write(batch: Pending<T>[]): Promise<void> {
    const failed = new Map<number, { code?: unknown; error: unknown }>();
    try {
      await retryBusy(() =>
        this.collection.insertMany(
          batch.map((pending) => pending.document as OptionalUnlessRequiredId<T>),
          { ordered: false },
        ),
      );
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) {
        // Whether any of them was written is unknown: every caller retries, and finds out by reading.
        for (const pending of batch) pending.reject(error);
        return;
      }
      type WriteError = { index: number; code?: number; errmsg?: string };
      const writeErrors = (
        Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]
      ) as WriteError[];
      for (const writeError of writeErrors) {
        failed.set(writeError.index, { code: writeError.code, error: writeError.errmsg ?? error });
      }
    }
    batch.forEach((pending, index) => {
      const failure = failed.get(index);
      if (!failure) pending.resolve('inserted');
      else if (failure.code === 11000) pending.resolve('duplicate');
      else pending.reject(new Error(String(failure.error)));
    });
  }
}
