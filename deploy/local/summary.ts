import { styleText } from 'node:util';
import { demoTrack, type DemoOutcome } from './demo.js';
import { type LocalConfig } from './local-config.js';

/** What is running and how to use it, printed once everything is ready. */
export function printSummary(config: LocalConfig, mailboxUrl: string, demo: DemoOutcome): void {
  const width = Math.max(...config.services.map((service) => service.name.length), 'admin token'.length) + 2;
  const row = (label: string, value: string): string => `  ${label.padEnd(width)}${value}`;
  const ingest = config.services.find((service) => service.name === 'ingest');
  const lines = [
    '',
    styleText('bold', 'Personalization Mesh is running.'),
    ...config.services.map((service) => row(service.name, `http://localhost:${service.port}`)),
    row('mailbox', `${mailboxUrl}  (SMTP 127.0.0.1:${config.smtp.port})`),
    row('NATS', `nats://127.0.0.1:${config.nats.port}`),
    row('Redis', `redis://127.0.0.1:${config.redis.port}`),
    row(
      'MongoDB',
      `mongodb://127.0.0.1:${config.mongo.port}  (FerretDB on PostgreSQL, 127.0.0.1:${config.postgres.port})`,
    ),
    row('write key', config.demoWriteKey),
    row('admin token', config.adminToken),
    '',
    'Send an event:',
    `  ${trackCurl(config.demoWriteKey, ingest?.port ?? 3001)}`,
    '',
    describeDemo(demo),
    'Ctrl-C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));
}

function trackCurl(writeKey: string, ingestPort: number): string {
  const body = JSON.stringify({ ...demoTrack('my-cart-1'), event: 'Product Added' });
  return `curl -u '${writeKey}:' -H 'content-type: application/json' -d '${body.replace(/'/g, `'\\''`)}' http://localhost:${ingestPort}/v1/track`;
}

function describeDemo(demo: DemoOutcome): string {
  switch (demo.kind) {
    case 'email':
      return styleText('green', `demo email arrived: ${demo.email.subject} → ${demo.email.to.join(', ')}`);
    case 'rejected':
      return styleText('yellow', `! the demo events were not accepted: ${demo.reason}`);
    case 'no-email':
      return styleText('yellow', `! no demo email arrived: ${demo.reason}`);
  }
}
