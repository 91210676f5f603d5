import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { REDIS } from './redis.module.js';
import { type Redis } from 'ioredis';

/** A failed reload is tried again after this (whole), until it succeeds or a newer notice comes. */
const RETRY_MS = 1_000;

/**
 * What a listener is told: what changed, as announced; `undefined` when it may have missed notices
 * (its subscription dropped, or a reload failed) and should read everything again.
 */
export type ChangeListener = (message: string | undefined) => Promise<void>;

/**
 * Tells every replica of a service that stored state it keeps in memory changed (campaigns, segments,
 * the catalog, the promoted model…), over Redis pub/sub, so each reads that again instead of polling
 * the store. A replica whose subscription dropped is told `undefined` when it is back: it may have
 * missed notices meanwhile.
 */
@Injectable()
export class ChangeNotices implements OnApplicationShutdown {
  private readonly logger = new Logger(ChangeNotices.name);
  private subscriber?: Redis;
  private readonly listeners = new Map<string, ChangeListener>();
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private channel(topic: string): string {
    return `${this.redis.options.keyPrefix ?? ''}changed:${topic}`;
  }

  /** Every replica (this one included) runs the listener of `topic` with `message`. */
  async announce(topic: string, message = ''): Promise<void> {
    await this.redis.publish(this.channel(topic), message);
  }

  async listen(topic: string, listener: ChangeListener): Promise<void> {
    this.listeners.set(this.channel(topic), listener);
    await this.connection().subscribe(this.channel(topic));
  }

  onApplicationShutdown(): void {
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.subscriber?.disconnect();
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => this.run(channel, message));
    let connected = false;
    subscriber.on('ready', () => {
      // ioredis subscribes again by itself; what changed while it was away is read now.
      if (connected) for (const channel of this.listeners.keys()) this.run(channel, undefined);
      connected = true;
    });
    subscriber.on('error', (error: Error) => this.logger.warn(`change notices: ${error.message}`));
    return subscriber;
  }

  private run(channel: string, message: string | undefined): void {
    const listener = this.listeners.get(channel);
    if (!listener) return;
    clearTimeout(this.retries.get(channel));
    this.retries.delete(channel);
    listener(message).catch((error: unknown) => {
      this.logger.warn(`reading again after a change of ${channel} failed, retrying: ${String(error)}`);
      this.retries.set(
        channel,
        setTimeout(() => this.run(channel, undefined), RETRY_MS),
      );
    });
  }
}
