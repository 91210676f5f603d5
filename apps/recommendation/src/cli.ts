import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { evaluateStrategies } from './evaluation/evaluate-strategies.js';
import { rebuildSignals } from './signals/rebuild-signals.js';

const USAGE = `Recommendation tools.

  npm run recommendation -- rebuild           drop the Redis signals and rebuild them from the IDENTITY stream (and the newest features from MongoDB)
  npm run recommendation -- evaluate [--k 5]  precision@k / recall@k of each strategy on a time split of the history
  npm run recommendation -- bias              the promoted propensity model's metrics per segment (flagged ones marked)

Options: --nats <url> ($NATS_URL), --redis <url> ($REDIS_URL), --mongo <url> ($MONGO_URL of the service).`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
      redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      mongo: { type: 'string', default: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/recommendation' },
      k: { type: 'string', default: '5' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || !['rebuild', 'evaluate', 'bias'].includes(command ?? '')) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const nc = await connect({ servers: values.nats, name: 'recommendation-tool' });
  const redis = new Redis(values.redis, { keyPrefix: 'recommendation:' });
  const mongo = new MongoClient(values.mongo);
  try {
    if (command === 'evaluate') {
      const report = await evaluateStrategies(nc, redis, mongo.db(), { k: Number(values.k) });
      console.log(`${report.events} events, holdout from ${report.holdoutFrom}, k=${report.k}`);
      console.table(report.strategies);
      return 0;
    }
    if (command === 'bias') {
      const db = mongo.db();
      const pointer = await db
        .collection<{ _id: string; version?: string }>('model_pointers')
        .findOne({ _id: 'propensity' });
      const model = pointer?.version
        ? await db
            .collection<{ _id: string }>('models')
            .findOne({ _id: pointer.version }, { projection: { forest: 0 } })
        : null;
      if (!model) {
        console.log('no promoted propensity model yet');
        return 1;
      }
      const { metrics, segments } = model as unknown as { metrics: object; segments: object[] };
      console.log(`model ${model._id}; overall:`, metrics);
      console.table(segments);
      return 0;
    }
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
