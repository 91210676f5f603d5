import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ReceivedEmail } from '@mesh/testing';

/** The mailbox's messages in a JSON file, so they survive a restart of `npm start`. */
export class MailboxStore {
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  /** The saved messages; none when the file is missing or unreadable (then it says why). */
  load(): ReceivedEmail[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const messages: unknown = JSON.parse(text);
      if (Array.isArray(messages)) return messages as ReceivedEmail[];
      throw new Error('not a JSON array');
    } catch (error) {
      console.warn(`mailbox: ignoring ${this.file} (${(error as Error).message})`);
      return [];
    }
  }

  /** Writes after the previous write, through a temp file, so the file is never half written. */
  save(messages: readonly ReceivedEmail[]): void {
    const json = JSON.stringify(messages);
    this.writes = this.writes
      .then(() => this.write(json))
      .catch((error: Error) => {
        console.warn(`mailbox: could not save ${this.file} (${error.message})`);
      });
  }

  /** Resolves once every save so far is on disk. */
  flush(): Promise<void> {
    return this.writes;
  }

  private async write(json: string): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    const partial = `${this.file}.partial`;
    await writeFile(partial, json);
    await rename(partial, this.file);
  }
}
