import { type Infra, readMongoCommands, startInfra, uniqueName } from '@mesh/testing';
import { type Db, MongoClient } from 'mongodb';
import { GroupCommit, type Versioned } from './group-commit.js';
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
    expect(inserts.slice(0, 40).every(Boolean)).toBe(true);
    expect(inserts[40]).toBe(false);

    const replaces = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => commit.write({ _id: `c${i}`, version: 2, count: 100 }, 1)),
      // Another writer moved this one to version 2 first.
      commit.write({ _id: 'taken', version: 3, count: 9 }, 2),
    ]);
    expect(replaces.slice(0, 10).every(Boolean)).toBe(true);
    expect(replaces[10]).toBe(false);
    expect(await commands('insert')).toBe(insertsBefore + 1);
    expect(await commands('update')).toBe(updatesBefore + 1);
    expect(await counters.findOne({ _id: 'c3' })).toMatchObject({ version: 2, count: 100 });
    expect(await counters.findOne({ _id: 'taken' })).toMatchObject({ version: 1, count: 0 });
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
