import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ChangeNotices } from '@mesh/storage';
import { LatestFeatures } from './latest-features.js';
import { PropensityModel } from './propensity-model.js';
import { PROMOTED_MODEL_TOPIC, PropensityRepository } from './propensity.repository.js';

/**
 * The promoted model (cached by version) and per-profile scores from it. Which version is promoted is
 * read once and again only when a replica promotes another (a change notice), not per send intent.
 */
@Injectable()
export class PropensityScorer implements OnModuleInit {
  private cached: PropensityModel | undefined;
  private version: Promise<string | undefined> | undefined;

  constructor(
    private readonly repository: PropensityRepository,
    private readonly latest: LatestFeatures,
    private readonly notices: ChangeNotices,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.notices.listen(PROMOTED_MODEL_TOPIC, () => {
      this.forgetPromoted();
      return Promise.resolve();
    });
  }

  /** The promoted version is read again at the next score. */
  forgetPromoted(): void {
    this.version = undefined;
  }

  private promotedVersion(): Promise<string | undefined> {
    const reading = this.repository.promotedVersion();
    // A failed read is not kept: the next score reads again.
    reading.catch(() => {
      if (this.version === reading) this.version = undefined;
    });
    this.version = reading;
    return reading;
  }

  async promoted(): Promise<PropensityModel | undefined> {
    const version = await (this.version ?? this.promotedVersion());
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
