import { existsSync } from 'node:fs';
import { MongoClient, MongoServerError } from 'mongodb';
import { startMongo } from './mongo-server.js';
import { isProcessRunning } from './process-running.js';
import { type RunningServer } from './server.js';
import { uniqueName } from './unique-name.js';

describe('startMongo (FerretDB)', () => {
  let mongo: RunningServer | undefined;
  let client: MongoClient | undefined;

  afterEach(async () => {
    await client?.close();
    await mongo?.stop();
  });

  it('stores documents and enforces a unique index, then stop() ends the process', async () => {
    mongo = await startMongo();
    client = new MongoClient(mongo.url);
    const profiles = client.db(uniqueName('identity')).collection('profiles');
    await profiles.createIndex({ email: 1 }, { unique: true });

    await profiles.insertOne({ email: 'ada@example.com', name: 'Ada' });
    const duplicate = profiles.insertOne({ email: 'ada@example.com', name: 'Ada again' });
    await expect(duplicate).rejects.toBeInstanceOf(MongoServerError);
    await expect(duplicate).rejects.toMatchObject({ code: 11000 });
    expect(await profiles.countDocuments()).toBe(1);

    await client.close();
    const { pid, dataDir } = mongo;
    await mongo.stop();
    expect(isProcessRunning(pid!)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('puts its temp data on tmpfs when /dev/shm exists', async () => {
    mongo = await startMongo();
    expect(mongo.dataDir.startsWith('/dev/shm/')).toBe(existsSync('/dev/shm'));
  });
});
