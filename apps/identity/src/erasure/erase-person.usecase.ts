import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  deriveEnvelope,
  type EraseDonePayload,
  type EraseRequestedPayload,
  type Envelope,
  type IdentifierDto,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { DuplicatesRepository } from '../duplicates/duplicates.repository.js';
import { EMAIL_RULES_TOKEN } from '../resolution/graph.module.js';
import { type EmailRule, identifierKey, normalizeEmail, normalizeId } from '../resolution/identifiers.js';
import { IdentityGraphRepository } from '../resolution/identity-graph.repository.js';

/**
 * Erases a person from the graph: their identifiers, their live profile and every profile merged
 * into it, the audit log's evidence (identifier values), the recorded conflicts and what fuzzy
 * matching kept (names, addresses, block memberships, candidates). Idempotent: a
 * redelivered request finds nothing left and its receipt has the same message id.
 */
@Injectable()
export class ErasePersonUseCase {
  private readonly logger = new Logger(ErasePersonUseCase.name);

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly publisher: MessagePublisher,
    private readonly duplicates: DuplicatesRepository,
    @Inject(EMAIL_RULES_TOKEN) private readonly emailRules: readonly EmailRule[],
  ) {}

  async execute(envelope: Envelope<EraseRequestedPayload>): Promise<void> {
    const started = Date.now();
    const request = envelope.data;
    const keys = request.identifiers
      .map((identifier) => normalized(identifier, this.emailRules))
      .map(identifierKey);
    const owners = [...(await this.graph.owners(keys)).values()];
    const roots = [...new Set((await this.graph.live([...owners, ...(request.profileIds ?? [])])).values())];

    const removed = await this.graph.withLocks(roots, async () => {
      const profileIds = await this.absorbedInto(roots);
      const doomed = { $or: [{ profileId: { $in: profileIds } }, { _id: { $in: keys } }] };
      // Under the claims, first the profiles are marked (the sighting through the cache, which takes no
      // claim, matches no marked profile), then the cache entries go: none may send an event to an
      // erased profile.
      await this.graph.markErasing(profileIds);
      const listed = await this.graph.profilesById(profileIds);
      const stored = await this.graph.identifiers.find(doomed, { projection: { _id: 1 } }).toArray();
      await this.graph.cache.forget([
        ...keys,
        ...stored.map((identifier) => identifier._id),
        ...[...listed.values()].flatMap((profile) => profile.identifiers),
      ]);
      const identifiers = await this.graph.identifiers.deleteMany(doomed);
      const audit = await this.graph.merges.updateMany(
        {
          $or: [{ survivorId: { $in: profileIds } }, { mergedIds: { $in: profileIds } }],
          erased: { $ne: true },
        },
        { $set: { evidence: [], erased: true } },
      );
      const conflicts = await this.graph.conflicts.deleteMany({
        $or: [{ attachedTo: { $in: profileIds } }, { profileIds: { $in: profileIds } }],
      });
      const fuzzyMatching = await this.duplicates.erase(profileIds);
      const profiles = await this.graph.profiles.deleteMany({ _id: { $in: profileIds } });
      return {
        identifiers: identifiers.deletedCount,
        profiles: profiles.deletedCount,
        mergeAuditRedacted: audit.modifiedCount,
        conflicts: conflicts.deletedCount,
        fuzzyMatching,
      };
    });

    const subject = SUBJECTS.privacy.eraseDone('identity');
    const data: EraseDonePayload = {
      requestId: request.requestId,
      service: 'identity',
      removed,
      durationMs: Date.now() - started,
    };
    await this.publisher.publish(subject, deriveEnvelope(envelope, { stage: subject, type: subject, data }));
    this.logger.log(`erasure ${request.requestId}: ${JSON.stringify(removed)}`);
  }

  /** The profiles and, transitively, every profile merged into them. */
  private async absorbedInto(roots: readonly string[]): Promise<string[]> {
    const all = new Set(roots);
    let frontier = [...roots];
    for (let depth = 0; depth < 32 && frontier.length > 0; depth++) {
      const merged = await this.graph.profiles
        .find({ mergedInto: { $in: frontier } }, { projection: { _id: 1 } })
        .toArray();
      frontier = merged.map((profile) => profile._id).filter((id) => !all.has(id));
      frontier.forEach((id) => all.add(id));
    }
    return [...all];
  }
}

/** The identifier as resolution stores it, so a request written like the original event finds it. */
function normalized(identifier: IdentifierDto, emailRules: readonly EmailRule[]): IdentifierDto {
  const result =
    identifier.type === 'email'
      ? normalizeEmail(identifier.value, emailRules)
      : normalizeId(identifier.value);
  return 'value' in result ? { ...identifier, value: result.value } : identifier;
}
