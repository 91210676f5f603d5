import { parseArgs } from 'node:util';
import { SERVICES, type ServiceName } from '@mesh/contracts';
import { DeadLetters } from '@mesh/messaging';
import { connect } from '@nats-io/transport-node';
import { natsAuthOptions } from './nats-auth.js';

const USAGE = `Dead letters: what each service gave up on, and replaying them.

  npm run dlq -- list [--service <name>] [--limit <n>]   the dead letters, oldest first
  npm run dlq -- replay <sequence>                       send one through its subject's consumers again

Options: --nats <url> (default: $NATS_URL or nats://127.0.0.1:4222); on the cluster of k8s/ authenticate
as the admin user: --user admin --password <nats-auth's admin> (or $NATS_USER, $NATS_PASSWORD), or with
--creds <file> ($NATS_CREDS) where accounts use JWTs. Services: ${SERVICES.join(', ')}.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      limit: { type: 'string', default: '50' },
      nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
      user: { type: 'string' },
      password: { type: 'string' },
      creds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, argument] = positionals;
  if (values.help || (command !== 'list' && command !== 'replay')) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const service = values.service as ServiceName | undefined;
  if (service !== undefined && !SERVICES.includes(service)) {
    console.error(`unknown service "${service}"; one of: ${SERVICES.join(', ')}`);
    return 2;
  }
  const auth = natsAuthOptions({ user: values.user, password: values.password, creds: values.creds });
  const nc = await connect({ servers: values.nats, name: 'dlq-tool', ...auth });
  try {
    const deadLetters = new DeadLetters(nc);
    if (command === 'list') {
      const entries = await deadLetters.list(service, Number(values.limit));
      if (entries.length === 0) console.log('no dead letters');
      for (const { sequence, deadLetter: d } of entries) {
        console.log(
          `#${sequence}  ${d.failedAt}  ${d.service}  ${d.subject} (${d.stream} #${d.streamSequence}, ` +
            `${d.deliveryCount} deliveries)  ${d.error.name}${d.error.code ? ` [${d.error.code}]` : ''}: ${d.error.message}`,
        );
      }
      return 0;
    }
    const sequence = Number(argument);
    if (!Number.isInteger(sequence) || sequence < 1) {
      console.error('replay needs the dead letter’s sequence, as `list` shows it (e.g. replay 12)');
      return 2;
    }
    const replayed = await deadLetters.replay(sequence);
    console.log(
      `replayed #${sequence} on ${replayed.subject} as ${replayed.messageId} (body from the ${replayed.from})`,
    );
    return 0;
  } finally {
    await nc.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`✗ ${(error as Error).message}`);
    process.exit(1);
  },
);
