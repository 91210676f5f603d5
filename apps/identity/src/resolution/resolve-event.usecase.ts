import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deriveEnvelope,
  deterministicId,
  type Envelope,
  type EventType,
  type IngestedEventBase,
  type PayloadOf,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher, PermanentError } from '@mesh/messaging';
import { type ExtractionOptions, extractIdentifiers, identifierKey } from './identifiers.js';
import { IdentityGraphRepository } from './identity-graph.repository.js';

export const EXTRACTION_OPTIONS = Symbol('EXTRACTION_OPTIONS');

/**
 * Finds (or creates) the one profile an ingested event belongs to and republishes the event on
 * `identity.resolved.<type>` with that profile id. Merges of two known profiles are identity's next
 * step; until then the event joins the profile of its highest-priority identifier.
 */
@Injectable()
export class ResolveEventUseCase {
  private readonly logger = new Logger(ResolveEventUseCase.name);

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly publisher: MessagePublisher,
    @Inject(EXTRACTION_OPTIONS) private readonly extraction: ExtractionOptions,
  ) {}

  async execute(
    type: EventType,
    envelope: Envelope<IngestedEventBase & { traits?: Record<string, unknown> }>,
  ): Promise<void> {
    const { identifiers, dropped } = extractIdentifiers(envelope.data, this.extraction);
    for (const drop of dropped) {
      this.logger.warn(`event ${envelope.id}: ${drop.source} dropped as ${drop.type} (${drop.reason})`);
    }
    const primary = identifiers[0];
    if (!primary) throw new PermanentError('the event carries no usable identifier', 'NO_IDENTIFIER');

    const known = await this.graph.owners(identifiers);
    const knownProfiles = [...new Set(known.values())];
    if (knownProfiles.length > 1) {
      this.logger.warn(
        `event ${envelope.id} connects profiles ${knownProfiles.join(', ')}; merge not yet supported`,
      );
    }
    const candidate =
      identifiers
        .map((identifier) => known.get(identifierKey(identifier)))
        .find((owner) => owner !== undefined) ??
      // Deterministic, so concurrent first events of one person agree on the new profile's id.
      deterministicId('profile', identifierKey(primary));
    const owners = await this.graph.claim(identifiers, candidate);
    const profileId = owners.get(identifierKey(primary)) ?? candidate;
    await this.graph.touchProfile(profileId, identifiers, new Date(envelope.occurredAt));

    const subject = SUBJECTS.identity.resolved[type];
    const resolved = deriveEnvelope(envelope, {
      stage: subject,
      type,
      profileId,
      data: { ...envelope.data, identifiers } as PayloadOf<typeof subject>,
    });
    await this.publisher.publish(subject, resolved);
  }
}
