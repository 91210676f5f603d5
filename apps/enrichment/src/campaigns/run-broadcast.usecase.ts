import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { deterministicId } from '@mesh/contracts';
import { snapshotOf } from '../profiles/profile-reader.js';
import { ProfilesRepository } from '../profiles/profiles.repository.js';
import { assign } from './campaign-decisions.js';
import { CampaignRegistry } from './campaign-registry.js';
import { type Broadcast, BroadcastsRepository } from './broadcasts.repository.js';
import { SendIntentPublisher } from './send-intent.publisher.js';

const PAGE = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends a campaign to every member of its audience segment, page by page, at most `ratePerSecond`
 * intents a second. Progress is saved per page and a broadcast left running resumes at boot; the
 * intent ids (campaign, profile, `broadcast:<id>`) make a repeated page harmless.
 */
@Injectable()
export class RunBroadcastUseCase implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunBroadcastUseCase.name);
  private readonly active = new Map<string, Promise<void>>();

  constructor(
    private readonly broadcasts: BroadcastsRepository,
    private readonly campaigns: CampaignRegistry,
    private readonly profiles: ProfilesRepository,
    private readonly intents: SendIntentPublisher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const broadcast of await this.broadcasts.running()) this.start(broadcast);
  }

  start(broadcast: Broadcast): void {
    if (this.active.has(broadcast.broadcastId)) return;
    const run = this.run(broadcast)
      .catch((error: unknown) =>
        this.logger.error(`broadcast ${broadcast.broadcastId} stopped: ${String(error)}`),
      )
      .finally(() => this.active.delete(broadcast.broadcastId));
    this.active.set(broadcast.broadcastId, run);
  }

  private async run(broadcast: Broadcast): Promise<void> {
    const campaign = this.campaigns.get(broadcast.campaignId);
    if (!campaign) throw new Error(`campaign ${broadcast.campaignId} is gone`);
    const triggerKey = `broadcast:${broadcast.broadcastId}`;
    const originId = deterministicId('broadcast', broadcast.broadcastId);
    const origin = {
      id: originId,
      occurredAt: broadcast.startedAt,
      receivedAt: broadcast.startedAt,
      source: 'enrichment',
      correlationId: originId,
    };
    let { cursor, sent, heldOut } = broadcast;
    const started = performance.now();
    let paced = 0;
    for (;;) {
      const page = await this.profiles.page(cursor, PAGE, broadcast.segmentId);
      if (page.length === 0) break;
      for (const model of page) {
        const assignment = assign(campaign, model.profileId);
        if (assignment.kind === 'holdout') {
          heldOut += 1;
          continue;
        }
        // Throttle: the n-th intent of this run goes out no earlier than n / rate seconds in.
        const due = (paced * 1000) / broadcast.ratePerSecond - (performance.now() - started);
        if (due > 0) await sleep(due);
        paced += 1;
        await this.intents.publish({
          campaign,
          ...(assignment.variant ? { variantName: assignment.variant.name } : {}),
          profile: snapshotOf(model),
          triggerKey,
          trigger: { event: 'Broadcast', properties: { broadcast_id: broadcast.broadcastId } },
          origin,
        });
        sent += 1;
      }
      cursor = page[page.length - 1]!.profileId;
      await this.broadcasts.progress(broadcast.broadcastId, { cursor, sent, heldOut });
    }
    await this.broadcasts.finish(broadcast.broadcastId, new Date().toISOString());
    this.logger.log(`broadcast ${broadcast.broadcastId}: ${sent} sent, ${heldOut} held out`);
  }

  /** For shutdown and tests: waits for the broadcasts running here. */
  async settled(): Promise<void> {
    await Promise.all(this.active.values());
  }
}
