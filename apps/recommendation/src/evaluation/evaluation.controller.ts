import { Body, Controller, HttpCode, Inject, Module, Post, UseGuards } from '@nestjs/common';
import { NatsConnection } from '@mesh/messaging';
import { MONGO_DB, REDIS } from '@mesh/storage';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { type Redis } from 'ioredis';
import { type Db } from 'mongodb';
import { AdminTokenGuard } from '@mesh/runtime';
import { evaluateStrategies, type StrategyEvaluation } from './evaluate-strategies.js';

export class EvaluationRequestDto {
  @IsOptional() @IsInt() @Min(1) @Max(50) k?: number;
  @IsOptional() @IsNumber() @Min(0.05) @Max(0.5) holdout_share?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) max_cases?: number;
}

/** Offline evaluation of the strategies (the model's per-segment report is GET /api/propensity/bias). */
@Controller('api/evaluation')
@UseGuards(AdminTokenGuard)
export class EvaluationController {
  constructor(
    private readonly nats: NatsConnection,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(MONGO_DB) private readonly db: Db,
  ) {}

  @Post('strategies')
  @HttpCode(200)
  async strategies(@Body() body: EvaluationRequestDto): Promise<StrategyEvaluation> {
    return evaluateStrategies(this.nats.nc, this.redis, this.db, {
      k: body.k,
      holdoutShare: body.holdout_share,
      maxCases: body.max_cases,
    });
  }
}

@Module({ controllers: [EvaluationController] })
export class EvaluationModule {}
