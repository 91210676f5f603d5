import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { type EnvelopeOf, OnMessage } from '@mesh/messaging';
import { featuresOf } from './features.js';
import { LatestFeatures } from './latest-features.js';
import { PropensityRepository } from './propensity.repository.js';

/** Keeps each profile's propensity features (a row per day) from enrichment's snapshots. */
@Controller()
export class ProfileUpdatedHandler {
  constructor(
    private readonly repository: PropensityRepository,
    private readonly latest: LatestFeatures,
  ) {}

  // Not ordered by profile: rows and snapshots keep the newest profile version whatever the order
  // (not the newest occurredAt: a later version may come from an earlier event), and a profile's
  // snapshots arriving together are written as one row (PropensityRepository.saveFeatures).
  @OnMessage('enrichment.profile.updated')
  async handle(@Payload() envelope: EnvelopeOf<'enrichment.profile.updated'>): Promise<void> {
    const { profile } = envelope.data;
    const at = new Date(envelope.occurredAt);
    const country =
      profile.traits.country ?? (profile.traits.address as { country?: unknown } | undefined)?.country;
    const features = featuresOf(profile.computed, at.getTime());
    await this.repository.saveFeatures({
      profileId: profile.profileId,
      at,
      features,
      version: profile.version,
      ...(typeof country === 'string' && country !== '' ? { country } : {}),
    });
    await this.latest.save(profile.profileId, { at, features, version: profile.version });
  }
}
