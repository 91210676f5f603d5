import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ChangeNotices } from '@mesh/storage';
import { type Campaign } from './campaign.js';
import { CampaignsRepository } from './campaigns.repository.js';

const TOPIC = 'campaigns';

/**
 * The campaigns in memory, so each event is matched without a database read: read whole at boot and
 * again when any replica changes one (a change notice, or its counter found moved by the 30 s
 * check in Redis when a notice was missed), never per event nor by polling the store.
 */
@Injectable()
export class CampaignRegistry implements OnModuleInit {
  private campaigns = new Map<string, Campaign>();
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: CampaignsRepository,
    private readonly notices: ChangeNotices,
  ) {}

  async onModuleInit(): Promise<void> {
    // Subscribed first: a change stored while the boot read runs is then heard, not missed.
    await this.notices.listen(TOPIC, () => this.reload());
    await this.reload();
  }

  /** Reads the campaigns again, after any read already under way (it may predate the change). */
  reload(): Promise<void> {
    const load = async () => {
      const campaigns = await this.repository.all();
      this.campaigns = new Map(campaigns.map((campaign) => [campaign.campaignId, campaign]));
    };
    this.loading = this.loading.catch(() => undefined).then(load);
    return this.loading;
  }

  /** After a change to the stored campaigns: this replica reloads, and tells the others to. */
  async changed(): Promise<void> {
    await this.reload();
    await this.notices.announce(TOPIC);
  }

  all(): Campaign[] {
    return [...this.campaigns.values()];
  }

  get(campaignId: string): Campaign | undefined {
    return this.campaigns.get(campaignId);
  }
}
