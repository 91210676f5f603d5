import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Query,
  UseGuards,
} from '@nestjs/common';
import { type IdentifierDto } from '@mesh/contracts';
import { AdminTokenGuard } from '@mesh/runtime';
import { EMAIL_RULES_TOKEN } from '../resolution/graph.module.js';
import { type EmailRule, identifierKey, normalizeEmail, normalizeId } from '../resolution/identifiers.js';
import { IdentityGraphRepository, type ProfileDocument } from '../resolution/identity-graph.repository.js';
import { ProfileIdParams, ProfileLookupQuery } from './profile-query.dto.js';
import { type MergeView, type ProfileView } from './profile-view.js';

@Controller('api/profiles')
@UseGuards(AdminTokenGuard)
export class ProfilesController {
  constructor(
    private readonly graph: IdentityGraphRepository,
    @Inject(EMAIL_RULES_TOKEN) private readonly emailRules: readonly EmailRule[],
  ) {}

  /** A profile with its identifiers and merge history; a merged id answers with its survivor. */
  @Get(':id')
  async byId(@Param() params: ProfileIdParams): Promise<ProfileView> {
    return this.view(params.id);
  }

  /** Resolves an e-mail address or a user id to its profile. */
  @Get()
  async lookup(@Query() query: ProfileLookupQuery): Promise<ProfileView> {
    const given = [query.email, query.userId].filter((value) => value !== undefined);
    if (given.length !== 1) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'give exactly one of email and userId',
        fields: {
          email: ['give exactly one of email and userId'],
          userId: ['give exactly one of email and userId'],
        },
      });
    }
    const key = identifierKey(this.identifierOf(query));
    const read = new Map<string, ProfileDocument>();
    const owner = (await this.cachedOwner(key, read)) ?? (await this.graph.owners([key])).get(key);
    if (!owner)
      throw new NotFoundException({ error: 'not_found', message: 'no profile has this identifier' });
    return this.view(owner, false, read);
  }

  /** The cached owner, if its profile is live and lists the identifier (else MongoDB answers). */
  private async cachedOwner(key: string, read: Map<string, ProfileDocument>): Promise<string | undefined> {
    const cached = (await this.graph.cache.get([key])).get(key);
    if (!cached) return undefined;
    const profile = (await this.graph.profilesById([cached])).get(cached);
    if (profile) read.set(cached, profile);
    return profile && !profile.mergedInto && profile.identifiers.includes(key) ? cached : undefined;
  }

  private identifierOf(query: ProfileLookupQuery): IdentifierDto {
    const [type, field, normalized] =
      query.email !== undefined
        ? (['email', 'email', normalizeEmail(query.email, this.emailRules)] as const)
        : (['user_id', 'userId', normalizeId(query.userId)] as const);
    if (!('value' in normalized)) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'the request is not valid',
        fields: { [field]: [`${field} is not a valid ${type} (${normalized.reason})`] },
      });
    }
    return { type, value: normalized.value };
  }

  /** Every read an equality on an indexed field or `_id`; profiles in `read` are not read again. */
  private async view(
    id: string,
    showRequested = true,
    read = new Map<string, ProfileDocument>(),
  ): Promise<ProfileView> {
    // The profile's identifiers and history are read beside the profile itself, for the id asked
    // for: one round trip instead of two, again only when that id turns out merged into another.
    const details = (profileId: string) =>
      Promise.all([this.graph.identifiers.find({ profileId }).toArray(), this.history(profileId)]);
    const [live, early] = await Promise.all([this.graph.live([id], read), details(id)]);
    const liveId = live.get(id)!;
    const profile = read.get(liveId);
    if (!profile) throw new NotFoundException({ error: 'not_found', message: `no profile ${id}` });
    const [identifiers, merges] = liveId === id ? early : await details(liveId);
    return {
      id: liveId,
      ...(showRequested && liveId !== id ? { requestedId: id } : {}),
      identifiers: identifiers.map(({ type, value, name }) => ({ type, value, ...(name ? { name } : {}) })),
      firstSeen: profile.firstSeen.toISOString(),
      lastSeen: profile.lastSeen.toISOString(),
      version: profile.version,
      merges,
    };
  }

  /** The merges into this profile and, transitively, into the profiles it absorbed. */
  private async history(profileId: string): Promise<MergeView[]> {
    const found = new Map<string, MergeView>();
    let frontier = [profileId];
    for (let depth = 0; depth < 32 && frontier.length > 0; depth++) {
      // One equality query per profile (by_survivor): `$in` would read every merge on FerretDB.
      const merges = (
        await Promise.all(
          frontier.map((survivorId) => this.graph.merges.find({ survivorId, status: 'done' }).toArray()),
        )
      ).flat();
      frontier = [];
      for (const merge of merges) {
        if (found.has(merge._id)) continue;
        found.set(merge._id, {
          mergeId: merge._id,
          survivorId: merge.survivorId,
          mergedIds: merge.mergedIds,
          reason: merge.reason,
          evidence: merge.evidence,
          at: (merge.completedAt ?? merge.createdAt).toISOString(),
        });
        frontier.push(...merge.mergedIds);
      }
    }
    return [...found.values()].sort((a, b) => a.at.localeCompare(b.at));
  }
}
