import { Inject, Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { REDIS } from './redis.module.js';
import { type Redis } from 'ioredis';

/** A failed reload is tried again after this (whole), until it succeeds or a newer notice comes. */
const RETRY_MS = 1_000;
/**
 * How often a replica compares the topics' change counters with the notices it heard (one Redis
 * MGET for all its topics; nothing is read from the store unless a notice was missed).
 */
const CHECK_MS = 30_000;

export const CHANGE_NOTICE_OPTIONS = Symbol('CHANGE_NOTICE_OPTIONS');

export interface ChangeNoticeOptions {
  /** How often the change counters are checked (ms); 30 s when not given. */
  checkEveryMs?: number;
}

/**
 * What a listener is told: what changed, as announced; `undefined` when it may have missed notices
 * (its subscription dropped, a notice was lost, or a reload failed) and should read everything again.
 */
export type ChangeListener = (message: string | undefined) => Promise<void>;

interface Counted {
  /** The topic's change counter (a Redis key). */
  key: string;
  /** The counter when last checked. */
  seen: number;
  /** Notices heard since. */
  heard: number;
}

/**
 * Tells every replica of a service that stored state it keeps in memory changed (campaigns, segments,
 * the catalog, the promoted model…), over Redis pub/sub, so each reads that again instead of polling
 * the store. Pub/sub delivers at most once, so each announcement first increments a counter of the
 * topic's changes in Redis, and every replica compares that counter with the notices it heard every
 * 30 s: a notice it missed (its subscription dropped, the publish failed after the change was stored)
 * is made up for by telling its listener `undefined`. A listener subscribes before its caller reads
 * what it keeps, so a change stored meanwhile is either read or heard.
 */
@Injectable()
export class ChangeNotices implements OnApplicationShutdown {
  private readonly logger = new Logger(ChangeNotices.name);
  private subscriber?: Redis;
  private readonly listeners = new Map<string, ChangeListener>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly counted = new Map<string, Counted>();
  /** Topics whose counter increment failed and is being tried again. */
  private readonly bumps = new Map<string, NodeJS.Timeout>();
  private checkTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly checkEveryMs: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Optional() @Inject(CHANGE_NOTICE_OPTIONS) options: ChangeNoticeOptions = {},
  ) {
    this.checkEveryMs = options.checkEveryMs ?? CHECK_MS;
  }

  private channel(topic: string): string {
    return `${this.redis.options.keyPrefix ?? ''}changed:${topic}`;
  }

  /** The change counter's key (the client's key prefix is added by ioredis). */
  private counterKey(topic: string): string {
    return `changed:${topic}:version`;
  }

  /**
   * Every replica (this one included) runs the listener of `topic` with `message`. Call it after the
   * change is stored. When it fails the change is still made known: the counter is incremented
   * (again tried in the background if that is what failed), and every replica's next check reads.
   */
  async announce(topic: string, message = ''): Promise<void> {
    try {
      await this.redis.incr(this.counterKey(topic));
    } catch (error) {
      this.bumpLater(topic);
      throw error;
    }
    await this.redis.publish(this.channel(topic), message);
  }

  /** Subscribes `listener` to `topic`; resolves once subscribed (read what it keeps after this). */
  async listen(topic: string, listener: ChangeListener): Promise<void> {
    const channel = this.channel(topic);
    this.listeners.set(channel, listener);
    await this.connection().subscribe(channel);
    const key = this.counterKey(topic);
    const seen = Number((await this.redis.get(key)) ?? 0);
    this.counted.set(channel, { key, seen, heard: 0 });
    this.scheduleCheck();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    for (const timer of this.bumps.values()) clearTimeout(timer);
    clearTimeout(this.checkTimer);
    this.subscriber?.disconnect();
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      const counted = this.counted.get(channel);
      if (counted) counted.heard += 1;
      this.run(channel, message);
    });
    let connected = false;
    subscriber.on('ready', () => {
      // ioredis subscribes again by itself; what changed while it was away is read now.
      if (connected) for (const channel of this.listeners.keys()) this.run(channel, undefined);
      connected = true;
    });
    subscriber.on('error', (error: Error) => this.logger.warn(`change notices: ${error.message}`));
    return subscriber;
  }

  private bumpLater(topic: string): void {
    if (this.stopped || this.bumps.has(topic)) return;
    const timer = setTimeout(() => {
      this.redis.incr(this.counterKey(topic)).then(
        () => this.bumps.delete(topic),
        () => {
          this.bumps.delete(topic);
          this.bumpLater(topic);
        },
      );
    }, RETRY_MS);
    timer.unref();
    this.bumps.set(topic, timer);
  }

  private scheduleCheck(): void {
    if (this.stopped || this.checkTimer) return;
    this.checkTimer = setTimeout(() => {
      void this.check().finally(() => {
        this.checkTimer = undefined;
        this.scheduleCheck();
      });
    }, this.checkEveryMs);
    this.checkTimer.unref();
  }

  /** One MGET of every counter listened to: a topic changed more often than heard is read again. */
  private async check(): Promise<void> {
    const topics = [...this.counted];
    if (topics.length === 0) return;
    let values: (string | null)[];
    try {
      values = await this.redis.mget(topics.map(([, counted]) => counted.key));
    } catch (error) {
      this.logger.warn(`checking change counters failed: ${String(error)}`);
      return;
    }
    topics.forEach(([channel, counted], index) => {
      const version = Number(values[index] ?? 0);
      // Fewer than heard: Redis lost the counter (and pub/sub with it); read again to be sure.
      const missed = version > counted.seen + counted.heard || version < counted.seen;
      counted.seen = version;
      counted.heard = 0;
      if (missed) this.run(channel, undefined);
    });
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
