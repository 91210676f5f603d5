import { Controller, Get, Optional } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { NatsHealthIndicator } from '@mesh/messaging';
import { MongoHealthIndicator, RedisHealthIndicator } from '@mesh/storage';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly nats: NatsHealthIndicator,
    @Optional() private readonly mongo?: MongoHealthIndicator,
    @Optional() private readonly redis?: RedisHealthIndicator,
  ) {}

  /** The process answers: nothing else is checked, so a slow dependency never gets it restarted. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Every server this service uses answers. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.nats.check(),
      ...(this.mongo ? [() => this.mongo!.check()] : []),
      ...(this.redis ? [() => this.redis!.check()] : []),
    ]);
  }
}
