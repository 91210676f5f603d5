import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { RecommendationEnv } from '../config.js';
import { NotEnoughDataError, TrainPropensityUseCase } from './train-propensity.usecase.js';

/** Trains every PROPENSITY_TRAIN_EVERY_MINUTES (0: never; on demand only). */
@Injectable()
export class TrainingSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('propensity');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly env: RecommendationEnv,
    private readonly train: TrainPropensityUseCase,
  ) {}

  onApplicationBootstrap(): void {
    const minutes = this.env.PROPENSITY_TRAIN_EVERY_MINUTES;
    if (minutes === 0) return;
    this.timer = setInterval(() => {
      this.train.execute().catch((error: unknown) => {
        if (error instanceof NotEnoughDataError)
          this.logger.log(`scheduled training skipped: ${error.message}`);
        else this.logger.error(error);
      });
    }, minutes * 60_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
