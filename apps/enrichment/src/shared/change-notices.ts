import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';

/** A failed reload is tried again after this, until it succeeds or a newer notice comes. */
const RETRY_MS = 1_000;

/**
 * Tells every replica that configuration changed (campaigns, segments), over Redis pub/sub, so each
 * reads it again once instead of polling the store. A replica whose subscription dropped reloads when
 * it is back, since it may have missed a notice meanwhile.
 */
@Injectable()
export class ChangeNotices implements OnApplicationShutdown {
  private readonly logger = new Logger(ChangeNotices.name);
  private subscriber?: Redis;
  private readonly reloads = new Map<string, () => Promise<void>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private channel(topic: string): string {
    return `${this.redis.options.keyPrefix ?? ''}changed:${topic}`;
  }

  /** Every replica (this one included) runs the reload listening to `topic`. */
  async announce(topic: string): Promise<void> {
    await this.redis.publish(this.channel(topic), String(Date.now()));
  }

  /** Runs `reload` on each notice of `topic` (the caller loaded once already). */
  async listen(topic: string, reload: () => Promise<void>): Promise<void> {
    this.reloads.set(this.channel(topic), reload);
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
    subscriber.on('message', (channel: string) => this.run(channel));
    let connected = false;
    subscriber.on('ready', () => {
      // ioredis subscribes again by itself; what changed while it was away is read now.
      if (connected) for (const channel of this.reloads.keys()) this.run(channel);
      connected = true;
    });
    subscriber.on('error', (error: Error) => this.logger.warn(`change notices: ${error.message}`));
    return subscriber;
  }

  private run(channel: string): void {
    const reload = this.reloads.get(channel);
    if (!reload) return;
    clearTimeout(this.retries.get(channel));
    this.retries.delete(channel);
    reload().catch((error: unknown) => {
      this.logger.warn(`reloading after a change of ${channel} failed, retrying: ${String(error)}`);
      this.retries.set(
        channel,
        setTimeout(() => this.run(channel), RETRY_MS),
      );
    });
  }
}
