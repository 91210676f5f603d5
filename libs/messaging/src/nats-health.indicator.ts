import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { NatsConnection } from './nats-connection.js';

@Injectable()
export class NatsHealthIndicator {
  constructor(
    private readonly connection: NatsConnection,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'nats'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (!this.connection.isConnected()) return indicator.down({ message: 'not connected' });
    try {
      const account = await this.connection.jsm.getAccountInfo();
      return indicator.up({ streams: account.streams, consumers: account.consumers });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
