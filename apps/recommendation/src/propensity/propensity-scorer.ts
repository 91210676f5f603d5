import { Injectable } from '@nestjs/common';
import { LatestFeatures } from './latest-features.js';
import { PropensityModel } from './propensity-model.js';
import { PropensityRepository } from './propensity.repository.js';

/** The promoted model (cached by version) and per-profile scores from it. */
@Injectable()
export class PropensityScorer {
  private cached: PropensityModel | undefined;

  constructor(
    private readonly repository: PropensityRepository,
    private readonly latest: LatestFeatures,
  ) {}

  async promoted(): Promise<PropensityModel | undefined> {
    const version = await this.repository.promotedVersion();
    if (!version) return undefined;
    if (this.cached?.version === version) return this.cached;
    const document = await this.repository.model(version);
    if (!document) return undefined;
    this.cached = PropensityModel.load(version, document.featureNames, document.forest);
    return this.cached;
  }

  /** The profile's propensity from its newest snapshot, or undefined without model or features. */
  async score(
    profileId: string,
  ): Promise<{ propensity: number; modelVersion: string; featuresAt: Date } | undefined> {
    const [model, row] = await Promise.all([this.promoted(), this.latest.get(profileId)]);
    if (!model || !row) return undefined;
    return { propensity: model.score([row.features])[0]!, modelVersion: model.version, featuresAt: row.at };
  }
}
