import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { AdminTokenGuard } from '@mesh/runtime';
import { FEATURE_NAMES, type FeatureName } from './features.js';
import { PropensityRepository } from './propensity.repository.js';
import { PropensityScorer } from './propensity-scorer.js';
import { NotEnoughDataError, TrainPropensityUseCase, type TrainResult } from './train-propensity.usecase.js';

export class TrainRequestDto {
  @IsOptional() @IsInt() @Min(1) @Max(365) horizon_days?: number;
  /** Train as of this instant (default now). */
  @IsOptional() @IsISO8601({ strict: true }) as_of?: string;
  /** Only these features (default all). */
  @IsOptional() @IsArray() @ArrayMinSize(1) @IsIn(FEATURE_NAMES, { each: true }) features?: FeatureName[];
}

/** The purchase-propensity model: training on demand, versions with metrics, per-profile scores, bias. */
@Controller('api/propensity')
@UseGuards(AdminTokenGuard)
export class PropensityController {
  constructor(
    private readonly train: TrainPropensityUseCase,
    private readonly scorer: PropensityScorer,
    private readonly repository: PropensityRepository,
  ) {}

  @Post('train')
  @HttpCode(200)
  async trainNow(@Body() body: TrainRequestDto): Promise<TrainResult> {
    try {
      return await this.train.execute({
        horizonDays: body.horizon_days,
        now: body.as_of === undefined ? undefined : Date.parse(body.as_of),
        featureNames: body.features,
      });
    } catch (error) {
      if (error instanceof NotEnoughDataError)
        throw new UnprocessableEntityException({ error: 'not_enough_data', message: error.message });
      throw error;
    }
  }

  @Get('models')
  async models(): Promise<{ promoted?: string; models: unknown[] }> {
    return { promoted: await this.repository.promotedVersion(), models: await this.repository.listModels() };
  }

  /** The promoted model's metrics per segment, the ones well below overall flagged. */
  @Get('bias')
  async bias(): Promise<unknown> {
    const version = await this.repository.promotedVersion();
    const model = version ? await this.repository.model(version) : null;
    if (!model) throw new NotFoundException({ error: 'not_found', message: 'no promoted model yet' });
    return {
      version,
      overall: model.metrics,
      segments: model.segments,
      flagged: model.segments.filter((s) => s.flagged).map((s) => s.segment),
    };
  }

  @Get('profiles/:profileId')
  async score(@Param('profileId') profileId: string): Promise<unknown> {
    const score = await this.scorer.score(profileId);
    if (!score)
      throw new NotFoundException({
        error: 'not_found',
        message: 'no promoted model or no features for this profile',
      });
    return { profileId, ...score };
  }
}
