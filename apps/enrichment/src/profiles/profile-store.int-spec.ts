import { type Infra, readMongoCommands, startInfra, uniqueName } from '@mesh/testing';
import { type Db, MongoClient } from 'mongodb';
import { GroupCommit, type Pending, type Versioned, type WriteOutcome } from './group-commit.js';
import { emptyProfile } from './profile-model.js';
import { ProfilesRepository } from './profiles.repository.js';

interface Counter extends Versioned {
  count: number;
}

describe('profile storage against FerretDB', () => {
  let infra: Infra;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    infra = await startInfra({ mongo: { metrics: true } });
    client = new MongoClient(infra.mongoUrl!);
    db = client.db(uniqueName('profile_store'));
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await infra?.stop();
  });

  const commands = async (name: string) => (await readMongoCommands(infra.mongo!.metricsUrl!)).get(name) ?? 0;

  it('writes concurrent callers in one command each way, and tells each whether its own write landed', async () => {
    const counters = db.collection<Counter>('counters');
    const commit = new GroupCommit(counters);
    await counters.insertOne({ _id: 'taken', version: 1, count: 0 });
    const [insertsBefore, updatesBefore] = [await commands('insert'), await commands('update')];

    const inserts = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => commit.write({ _id: `c${i}`, version: 1, count: i }, 0)),
      commit.write({ _id: 'taken', version: 1, count: 1 }, 0),
    ]);
    expect(inserts.slice(0, 40).every((outcome) => outcome === 'written')).toBe(true);
    expect(inserts[40]).toBe('lost');

    const replaces = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => commit.write({ _id: `c${i}`, version: 2, count: 100 }, 1)),
      // Another writer moved this one to version 2 first.
      commit.write({ _id: 'taken', version: 3, count: 9 }, 2),
    ]);
    expect(replaces.slice(0, 10).every((outcome) => outcome === 'written')).toBe(true);
    expect(replaces[10]).toBe('lost');
    expect(await commands('insert')).toBe(insertsBefore + 1);
    expect(await commands('update')).toBe(updatesBefore + 1);
    expect(await counters.findOne({ _id: 'c3' })).toMatchObject({ version: 2, count: 100 });
    expect(await counters.findOne({ _id: 'taken' })).toMatchObject({ version: 1, count: 0 });
  });

  // Another replica (the profile.updated consumer spans replicas) may read the version a batch just
  // wrote and replace it before the batch, short of matches, reads back which of its writes landed.
  it('knows a replace landed when another writer built on it before the check read it back', async () => {
    const counters = db.collection<Counter>('interleaved');
    await counters.insertMany([
      { _id: 'p', version: 5, applied: ['m4'], count: 5 },
      { _id: 'q', version: 3, applied: ['n2'], count: 3 },
    ]);
    class OtherReplicaWritesFirst extends GroupCommit<Counter> {
      protected override async check(
        replaces: Pending<Counter>[],
      ): Promise<Map<Pending<Counter>, WriteOutcome>> {
        // Replica B read p's version 6 (this batch's write) and writes version 7 on it.
        const six = await counters.findOne({ _id: 'p' });
        expect(six).toMatchObject({ version: 6, applied: ['m4', 'm5'] });
        await counters.replaceOne(
          { _id: 'p', version: 6 },
          { version: 7, applied: [...six!.applied!, 'm6'], count: 7, writeId: 'replica-b' },
        );
        return super.check(replaces);
      }
    }
    const commit = new OtherReplicaWritesFirst(counters);
    const [p, q, qAgain] = await Promise.all([
      commit.write({ _id: 'p', version: 6, applied: ['m4', 'm5'], count: 6 }, 5, 'm5'),
      // Stale: q is at version 3, so the batch matches fewer replaces than it sent.
      commit.write({ _id: 'q', version: 3, applied: ['n1'], count: 2 }, 2, 'n1'),
      // Stale as well, and its message is not in what is stored.
      commit.write({ _id: 'q', version: 4, applied: ['n2', 'n3'], count: 4 }, 2, 'n3'),
    ]);
    expect(p).toBe('landed');
    expect(q).toBe('lost');
    expect(qAgain).toBe('lost');
    expect(await counters.findOne({ _id: 'p' })).toMatchObject({ version: 7, writeId: 'replica-b' });
  });

  it('tells a redelivered message what it changed though another replica changed the profile since', async () => {
    const shared = client.db(uniqueName('profile_changes'));
    const replicaA = new ProfilesRepository(shared);
    const replicaB = new ProfilesRepository(shared);
    await replicaA.onModuleInit();
    const entered = { messageId: 'm1', changed: ['plan'], entered: ['vip'], exited: [] };
    const ada = { ...emptyProfile('ada'), traits: { plan: 'gold' }, segments: ['vip'], version: 1 };
    expect(await replicaA.save(ada, 0, entered)).toBe(true);
    // B changes ada after A's write (another message), then m1 comes again (A's caller was told its
    // write was lost, or A stopped before acking): it was applied; what it changed is still known.
    const seen = await replicaB.load('ada');
    const next = { ...seen!.model, traits: { plan: 'gold', city: 'Paris' } };
    const other = { messageId: 'm2', changed: ['city'], entered: [], exited: [] };
    expect(await replicaB.save(next, 1, other, seen!.appliedIds, seen!.changes)).toBe(true);
    for (const replica of [replicaB, new ProfilesRepository(shared)]) {
      const again = await replica.load('ada');
      expect(again?.applied('m1')).toBe(true);
      expect(again?.changeOf('m1')).toEqual(entered);
      expect(again?.changeOf('m2')).toEqual(other);
    }
  });

  it('folds the journal of earlier releases into profiles once, and finds profiles by email', async () => {
    const upgraded = client.db(uniqueName('profile_upgrade'));
    const at = new Date('2026-01-02T00:00:00Z');
    // The view had version 1; the journal holds versions 1 and 2 of ada, and only a version 1 of bo.
    await upgraded.collection<{ _id: string }>('profiles').insertOne({
      _id: 'ada',
      traits: { email: 'ada@example.com' },
      computed: {},
      version: 1,
      applied: ['m1'],
      updatedAt: at,
      schemaVersion: 2,
    } as never);
    const body = (traits: Record<string, unknown>, applied: string[]) =>
      JSON.stringify({ traits, traitTimes: {}, state: {}, computed: {}, segments: [], applied });
    await upgraded.collection<{ _id: string }>('profile_journal').insertMany([
      {
        _id: 'v1:ada',
        profileId: 'ada',
        version: 1,
        body: body({ email: 'ada@example.com' }, ['m1']),
        writtenAt: at,
      },
      {
        _id: 'v2:ada',
        profileId: 'ada',
        version: 2,
        body: body({ email: 'ada@example.com', 'plan.tier': 'gold' }, ['m1', 'm2']),
        writtenAt: at,
      },
      {
        _id: 'v1:bo',
        profileId: 'bo',
        version: 1,
        body: body({ email: 'bo@example.com' }, ['m3']),
        writtenAt: at,
      },
    ] as never);

    const repository = new ProfilesRepository(upgraded);
    await repository.onModuleInit();

    expect((await upgraded.listCollections({ name: 'profile_journal' }).toArray()).length).toBe(0);
    const ada = await repository.load('ada');
    expect(ada?.model).toMatchObject({
      version: 2,
      traits: { email: 'ada@example.com', 'plan.tier': 'gold' },
    });
    expect(ada?.applied('m2')).toBe(true);
    expect((await repository.load('bo'))?.model.version).toBe(1);
    // Ada's view document predates the email field: the upgrade gave it one.
    expect(await repository.idsWithEmail(['ada@example.com', 'bo@example.com', 'cy@example.com'])).toEqual(
      expect.arrayContaining(['ada', 'bo']),
    );

    // A new profile is inserted without a read; one known to exist is replaced at its version.
    const cy = { ...emptyProfile('cy'), traits: { email: 'cy@example.com' }, version: 1 };
    expect(await repository.save(cy, 0, { messageId: 'm4', changed: [], entered: [], exited: [] })).toBe(
      true,
    );
    expect(
      await repository.save({ ...cy, version: 1 }, 0, {
        messageId: 'm5',
        changed: [],
        entered: [],
        exited: [],
      }),
    ).toBe(false);
    expect(await repository.idsWithEmail(['cy@example.com'])).toEqual(['cy']);
  });
});
