import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { deterministicId, type IdentifierDto } from '@mesh/contracts';
import { EMAIL_RULES_TOKEN } from './graph.module.js';
import { type EmailRule, identifierKey, normalizeEmail } from './identifiers.js';
import { IdentityGraphRepository, type IdentifierDocument } from './identity-graph.repository.js';
import { ProfileMerger } from './profile-merger.js';

export interface EmailRulesReport {
  /** E-mail identifiers read. */
  scanned: number;
  /** Addresses now stored in their normalized form. */
  rewritten: number;
  /** Profiles merged because two of their addresses are one under the rules. */
  merged: number;
  /** Addresses left as they were: the merge they needed was refused (identifier limits, an operator's split), or their profile is gone. */
  refused: number;
}

/**
 * Brings the addresses stored before IDENTITY_EMAIL_RULES were turned on (or changed) under them, as
 * resolution would have stored them: each address is kept in its normalized form, and profiles whose
 * addresses are now one address are merged (reason `email rules`, `identity.merged` as for any
 * merge). Runs once per set of rules, in the background after boot (a marker in the graph says
 * which rules were applied); every step may run again with one effect, so a replica that stops
 * midway, or two replicas running it at once, leave the same graph.
 */
@Injectable()
export class ApplyEmailRulesUseCase implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApplyEmailRulesUseCase.name);
  private stopping = false;
  private running?: Promise<unknown>;

  constructor(
    private readonly graph: IdentityGraphRepository,
    private readonly merger: ProfileMerger,
    @Inject(EMAIL_RULES_TOKEN) private readonly rules: readonly EmailRule[],
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.applyOnce().catch((error: Error) =>
      this.logger.error(`e-mail rules not applied to stored addresses: ${error.message}`),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Applies the rules unless the graph says they were applied already. */
  async applyOnce(): Promise<EmailRulesReport | undefined> {
    const rules = this.rules.join(',');
    if ((await this.graph.emailRulesApplied()) === rules) return undefined;
    if (rules === '') {
      // Without rules, addresses are stored as they always were: nothing to rewrite, but the marker
      // changes, so turning rules on again later rewrites what was stored meanwhile.
      await this.graph.markEmailRulesApplied(rules);
      return undefined;
    }
    const report = await this.execute();
    if (this.stopping) return report; // unfinished: the next boot goes on
    await this.graph.markEmailRulesApplied(rules);
    if (report.scanned > 0)
      this.logger.log(`e-mail rules "${rules}" applied to stored addresses: ${JSON.stringify(report)}`);
    return report;
  }

  async execute(): Promise<EmailRulesReport> {
    const report: EmailRulesReport = { scanned: 0, rewritten: 0, merged: 0, refused: 0 };
    for await (const stored of this.graph.emailIdentifiers()) {
      if (this.stopping) break;
      report.scanned++;
      const normalized = normalizeEmail(stored.value, this.rules);
      if (!('value' in normalized) || normalized.value === stored.value) continue;
      const outcome = await this.rewrite(stored, { type: 'email', value: normalized.value });
      if (outcome === undefined) continue;
      report[outcome]++;
      if (outcome === 'merged') report.rewritten++;
    }
    return report;
  }

  /** Merges the normalized address's owner in if it is another profile, then stores the address normalized. */
  private async rewrite(
    stored: IdentifierDocument,
    identifier: IdentifierDto,
  ): Promise<'rewritten' | 'merged' | 'refused' | undefined> {
    // A cursor may still hold an address this run (or another replica) already rewrote.
    if (!(await this.graph.owners([stored._id])).has(stored._id)) return undefined;
    const newKey = identifierKey(identifier);
    let merged = false;
    for (let attempt = 0; attempt < 10; attempt++) {
      const owner = (await this.graph.owners([newKey])).get(newKey);
      const live = await this.graph.live(
        owner === undefined ? [stored.profileId] : [stored.profileId, owner],
      );
      const mine = live.get(stored.profileId)!;
      const theirs = owner === undefined ? undefined : live.get(owner);
      if (theirs !== undefined && theirs !== mine) {
        const outcome = await this.merger.merge([mine, theirs], {
          reason: 'email rules',
          evidence: [identifier],
          cause: {
            id: deterministicId('email-rules', stored._id),
            correlationId: deterministicId('email-rules', stored._id),
            source: 'identity',
            occurredAt: new Date().toISOString(),
            receivedAt: new Date().toISOString(),
          },
        });
        if (!('merged' in outcome)) return 'refused';
        merged = true;
        continue; // one profile now: store the address normalized in it
      }
      const step = await this.graph.withLocks([mine], async () => {
        const profile = (await this.graph.profilesById([mine])).get(mine);
        if (!profile) return 'gone'; // an identifier left by a profile's erasure that stopped midway
        if (profile.mergedInto) return 'again'; // merged meanwhile: look again
        const ownerNow = (await this.graph.owners([newKey])).get(newKey);
        if (ownerNow !== undefined && (await this.graph.live([ownerNow])).get(ownerNow) !== mine)
          return 'again';
        await this.graph.rekey(profile, stored._id, identifier);
        return 'done';
      });
      if (step === 'gone') return 'refused';
      if (step === 'done') return merged ? 'merged' : 'rewritten';
    }
    throw new Error(`rewriting ${stored._id}: the graph kept changing`);
  }
}
