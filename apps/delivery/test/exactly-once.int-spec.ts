import { type DeadLetterPayload, type Envelope, SUBJECTS } from '@mesh/contracts';
import {
  freePort,
  type Infra,
  MessageTap,
  publishCopy,
  repoRoot,
  ServerProcess,
  serviceEntry,
  SmtpSink,
  startInfra,
  uniqueName,
  waitFor,
} from '@mesh/testing';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { MongoClient } from 'mongodb';
import {
  campaignSpec,
  consumersSettled,
  renderedEmail,
  RENDERED_CONSUMER,
  sendKey,
} from './delivery-fixture.js';

const ADMIN_TOKEN = 'delivery-exactly-once-admin-token';

const CAMPAIGN = campaignSpec('welcome', { name: 'Welcome' });

const rendered = (profileId: string, to: string, triggerKey = 'signup') =>
  renderedEmail(profileId, CAMPAIGN, {
    triggerKey,
    to,
    subject: 'Welcome',
    html: '<p>Welcome</p>',
    text: 'Welcome',
  });

/**
 * The send ledger under stress: delivery runs as its own process (as in production) so the test can
 * kill it with SIGKILL while the SMTP server holds its reply to DATA. That is why it boots its own
 * servers and process here rather than using startDeliveryUnderTest (delivery in this process).
 */
describe('delivery sends each email at most once', () => {
  let infra: Infra;
  let sink: SmtpSink;
  let tap: MessageTap;
  let mongo: MongoClient;
  let env: Record<string, string>;
  let port: number;
  let delivery: ServerProcess | undefined;
  const database = uniqueName('delivery_once');

  const startDelivery = async () => {
    const child = ServerProcess.spawn({
      name: 'delivery',
      command: process.execPath,
      args: [serviceEntry('delivery')],
      cwd: repoRoot(),
      env: { ...process.env, ...env },
      onLine: (line) => process.env.DEBUG_DELIVERY && console.log(line),
    });
    await child.waitUntilReady(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      await response.body?.cancel();
      if (!response.ok) throw new Error(`ready answered ${response.status}`);
    }, 60_000);
    delivery = child;
  };
  const publish = async (envelope: Envelope) => {
    const nc = await connect({ servers: infra.natsUrl! });
    try {
      await jetstream(nc).publish(SUBJECTS.renderer.rendered, JSON.stringify(envelope), {
        msgID: envelope.id,
      });
    } finally {
      await nc.close();
    }
  };
  const emailsTo = (address: string) => sink.messages().filter((email) => email.to.includes(address));
  const ledger = (key: string) =>
    mongo
      .db(database)
      .collection('sends')
      .findOne({ _id: key as never });
  const settled = () =>
    consumersSettled(infra.natsUrl!, 'delivery to settle every rendered email', [RENDERED_CONSUMER], 30_000);

  beforeAll(async () => {
    infra = await startInfra({ nats: true, mongo: true, redis: true });
    sink = new SmtpSink();
    const smtpPort = await sink.start();
    port = await freePort();
    env = {
      PORT: String(port),
      NATS_URL: infra.natsUrl!,
      REDIS_URL: infra.redisUrl!,
      MONGO_URL: `${infra.mongoUrl}/${database}`,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MESH_ADMIN_TOKEN: ADMIN_TOKEN,
      NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
      DELIVERY_RECONCILE_AFTER_SECONDS: '1',
      DELIVERY_RECONCILE_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
    };
    mongo = new MongoClient(infra.mongoUrl!);
    await startDelivery();
    tap = await MessageTap.open(infra.natsUrl!, '>');
  }, 90_000);
  afterAll(async () => {
    await tap?.close();
    await delivery?.terminate(5_000);
    await mongo?.close();
    await sink?.stop();
    await infra?.stop();
  });

  it('sends one email when the same intent arrives many times at once, as copies and as new messages', async () => {
    const original = rendered('profile-many', 'many@example.com');
    // The same message redelivered (20 copies) and 10 other messages for the same send, all at once.
    const others = Array.from({ length: 10 }, () => rendered('profile-many', 'many@example.com'));
    await Promise.all([
      publish(original),
      ...Array.from({ length: 20 }, (_, i) =>
        publishCopy(infra.natsUrl!, SUBJECTS.renderer.rendered, original, `copy-${i}`),
      ),
      ...others.map((envelope) => publish(envelope)),
    ]);
    await sink.waitForEmail((email) => email.to.includes('many@example.com'));
    await settled();

    expect(emailsTo('many@example.com')).toHaveLength(1);
    expect(await ledger(sendKey(original))).toMatchObject({ status: 'sent', attempts: 1 });
    const inputs = new Set([original.id, ...others.map((envelope) => envelope.id)]);
    const caused = (subject: string) =>
      tap.messages(subject).filter((message) => inputs.has(message.envelope.causationId));
    // One sent announcement kept by the stream (re-announcements reuse its id) and a duplicate for each other message.
    expect(new Set(caused(SUBJECTS.delivery.sent).map((message) => message.envelope.id)).size).toBe(1);
    expect(caused(SUBJECTS.delivery.skipped).length).toBeGreaterThanOrEqual(10);
    expect(caused(SUBJECTS.dlq('delivery'))).toEqual([]);
  });

  it('never sends twice when the process is killed while SMTP holds its reply to DATA', async () => {
    const intent = rendered('profile-crash', 'crash@example.com');
    const key = sendKey(intent);
    const hold = sink.holdNextAcceptance();

    await publish(intent);
    await hold.reached;
    await delivery!.kill();
    hold.release();
    expect(await ledger(key)).toMatchObject({ status: 'sending' });

    await startDelivery();
    // The reconciler finds the interrupted send and marks it for review.
    await waitFor('the interrupted send to be marked for review', async () => {
      return (await ledger(key))?.status === 'needs_review';
    });
    const review = (await (
      await fetch(`http://127.0.0.1:${port}/admin/sends?status=needs_review`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as { sends: { key: string }[] };
    expect(review.sends.map((send) => send.key)).toContain(key);

    // JetStream redelivers the unacknowledged message once its ack wait (30 s) has passed: the new
    // process dead-letters it for reconciliation instead of sending it again.
    const dead = await tap.next<DeadLetterPayload>(
      SUBJECTS.dlq('delivery'),
      (message) => message.envelope.causationId === intent.id,
      60_000,
    );
    expect(dead.envelope.data.deliveryCount).toBe(2);
    expect(dead.envelope.data.error).toMatchObject({ code: 'SEND_OUTCOME_UNKNOWN', permanent: true });
    await settled();
    expect(emailsTo('crash@example.com')).toHaveLength(1);

    // The operator checks the mailbox provider and says it went out; a replay then only announces it.
    const unauthorized = await fetch(`http://127.0.0.1:${port}/admin/sends/${key}/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'sent' }),
    });
    expect(unauthorized.status).toBe(401);
    const resolved = await fetch(`http://127.0.0.1:${port}/admin/sends/${key}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'sent', note: 'found in the ESP log' }),
    });
    expect(resolved.status).toBe(200);
    await publishCopy(infra.natsUrl!, SUBJECTS.renderer.rendered, intent, 'replay');
    await tap.next(SUBJECTS.delivery.sent, (message) => message.envelope.causationId === intent.id);
    await settled();
    expect(emailsTo('crash@example.com')).toHaveLength(1);
    expect(await ledger(key)).toMatchObject({ status: 'sent' });
  }, 120_000);
});
