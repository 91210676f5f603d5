import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@mesh/storage';
import { type Redis } from 'ioredis';
import { DeliveryEnv } from '../config.js';
import { SmtpNotSentError } from './smtp-errors.js';

/** How long one send waits for its domain's turn before giving the message back for later. */
const MAX_WAIT_MS = 30_000;

/**
 * At most DELIVERY_DOMAIN_RATE_PER_SECOND emails per second to one recipient domain, over every
 * replica (a counter per domain and second in Redis): big mailbox providers throttle senders that burst.
 */
@Injectable()
export class DomainThrottle {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {}

  async waitTurn(address: string): Promise<void> {
    const rate = this.env.DELIVERY_DOMAIN_RATE_PER_SECOND;
    if (rate === 0) return;
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    const deadline = Date.now() + MAX_WAIT_MS;
    while (Date.now() < deadline) {
      const second = Math.floor(Date.now() / 1000);
      const key = `throttle:${domain}:${second}`;
      const [[, count]] = (await this.redis.multi().incr(key).expire(key, 2).exec()) as [[null, number]];
      if (count <= rate) return;
      await new Promise((resolve) =>
        setTimeout(resolve, (second + 1) * 1000 - Date.now() + Math.random() * 50),
      );
    }
    throw new SmtpNotSentError(`throttled: no turn for ${domain} within ${MAX_WAIT_MS} ms`);
  }
}
