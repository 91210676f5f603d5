import { MongoServerError } from 'mongodb';

const ATTEMPTS = 8;

/** FerretDB on SQLite answers concurrent writes with SQLITE_BUSY: a lock held for milliseconds. */
export function isBusy(error: unknown): boolean {
  return error instanceof MongoServerError && error.message.includes('SQLITE_BUSY');
}

/** Retries a database call the lock refused, after a short random pause, rather than failing the message. */
export async function retryBusy<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isBusy(error) || attempt >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** attempt));
    }
  }
}
