import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { rebuildSignals } from './signals/rebuild-signals.js';

const USAGE = `Recommendation tools.

  npm run recommendation -- rebuild     drop the Redis signals and rebuild them from the IDENTITY stream

Options: --nats <url> ($NATS_URL), --redis <url> ($REDIS_URL), --mongo <url> ($MONGO_URL of the service).`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
      redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      mongo: { type: 'string', default: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/recommendation' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || command !== 'rebuild') {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const nc = await connect({ servers: values.nats, name: 'recommendation-tool' });
  const redis = new Redis(values.redis, { keyPrefix: 'recommendation:' });
  const mongo = new MongoClient(values.mongo);
  try {
    const report = await rebuildSignals(nc, redis, mongo.db());
    console.log(
      `rebuilt: cleared ${report.cleared} keys, replayed ${report.replayed} events ` +
        `(${report.skipped} skipped) in ${report.durationMs} ms`,
    );
    return 0;
  } finally {
    redis.disconnect();
    await mongo.close();
    await nc.close();
  }
}

process.exitCode = await main();
