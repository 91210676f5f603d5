import { ChangeNotices } from '@mesh/storage';
import { type Infra, startInfra, uniqueName, waitFor } from '@mesh/testing';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';
import { type Campaign } from './campaign.js';
import { CampaignRegistry } from './campaign-registry.js';
import { CampaignsRepository } from './campaigns.repository.js';

describe('campaign registry between replicas (real FerretDB and Redis)', () => {
  let infra: Infra;
  let client: MongoClient;
  let db: Db;
  const redisClients: Redis[] = [];
  const notices: ChangeNotices[] = [];

  const changeNotices = () => {
    const redis = new Redis(infra.redisUrl!, { keyPrefix: `${uniqueName('enrichment')}:` });
    redisClients.push(redis);
    const replicaNotices = new ChangeNotices(redis);
    notices.push(replicaNotices);
    return { redis, replicaNotices };
  };

  beforeAll(async () => {
    infra = await startInfra({ redis: true, mongo: true });
    client = new MongoClient(infra.mongoUrl!);
    db = client.db(uniqueName('campaign_registry'));
  }, 60_000);
  afterAll(async () => {
    for (const replicaNotices of notices) replicaNotices.onApplicationShutdown();
    for (const redis of redisClients) redis.disconnect();
    await client?.close();
    await infra?.stop();
  });

  const campaign = (campaignId: string, status: string) => ({ campaignId, status }) as unknown as Campaign;

  it('hears a change another replica makes while it reads the campaigns at boot', async () => {
    const { redis } = changeNotices();
    const booting = new ChangeNotices(redis);
    const admin = new ChangeNotices(redis);
    notices.push(booting, admin);
    const adminRepository = new CampaignsRepository(db);
    const adminRegistry = new CampaignRegistry(adminRepository, admin);
    await adminRepository.save(campaign('spring', 'active'));

    // The booting replica's read returns the campaign active; right after it, the admin pauses it
    // through another replica (stored, then announced) before the boot is over.
    let interposed = false;
    class ReadThenPaused extends CampaignsRepository {
      override async all(): Promise<Campaign[]> {
        const read = await super.all();
        if (!interposed) {
          interposed = true;
          await adminRepository.save(campaign('spring', 'paused'));
          await adminRegistry.changed();
        }
        return read;
      }
    }
    const registry = new CampaignRegistry(new ReadThenPaused(db), booting);
    await registry.onModuleInit();
    expect(interposed).toBe(true);
    // Without the 30 s check: the notice itself brings the pause.
    await waitFor(
      'the booting replica to see the pause',
      () => (registry.get('spring') as unknown as { status: string } | undefined)?.status === 'paused',
      3_000,
    );
  });
});
