import {
  type CampaignSpecDto,
  type Envelope,
  originEnvelope,
  type RenderedEmailPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { bootService, SmtpSink, startInfra, uniqueName } from '@mesh/testing';
import nodemailer from 'nodemailer';
// eslint-disable-next-line no-restricted-imports -- the benchmark boots delivery in-process, as its own tests do
import { DecideSendUseCase } from '../../apps/delivery/src/decisions/decide-send.usecase.js';
// eslint-disable-next-line no-restricted-imports -- as above
import { deliverySpec } from '../../apps/delivery/src/delivery.app.js';
import { percentiles, windowed } from '../messaging/bench-stats.js';

// Sends per second through delivery's whole path (consume → decision point → ledger → SMTP →
// settle → announce) against nodemailer sending the same messages straight to the same SMTP sink,
// in one run; and the decision point's own latency. Usage: npm run bench -- delivery [-- <emails>]
const EMAILS = Number(process.argv[2] ?? process.env.BENCH_EMAILS ?? 1_000);
const WINDOW = 64;

const CAMPAIGN: CampaignSpecDto = {
  campaignId: 'bench',
  name: 'bench',
  templateId: 'bench',
  recommendation: { strategy: 'none', limit: 0 },
  sendPolicy: { maxPerDay: 0, transactional: false },
};
const HTML = `<html><body><h1>Hello</h1>${'<p>Laptop 13 — <a href="https://shop.example/p/1">see it</a></p>'.repeat(20)}</body></html>`;

function rendered(i: number, run: string): Envelope<RenderedEmailPayload> {
  return originEnvelope({
    type: 'email.rendered',
    source: 'bench',
    occurredAt: new Date().toISOString(),
    profileId: `${run}-profile-${i}`,
    data: {
      campaign: CAMPAIGN,
      triggerKey: 'bench',
      template: { id: 'bench', version: 1 },
      to: `${run}-${i}@bench${i % 20}.example`,
      subject: 'Your cart',
      html: HTML,
      text: 'Hello, see https://shop.example/p/1',
    },
  });
}

const infra = await startInfra({ nats: true, redis: true, mongo: true });
const sink = new SmtpSink();
const smtpPort = await sink.start();
const service = await bootService(
  deliverySpec({
    PORT: '0',
    NATS_URL: infra.natsUrl,
    REDIS_URL: infra.redisUrl,
    MONGO_URL: `${infra.mongoUrl}/${uniqueName('bench_delivery')}`,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MESH_ADMIN_TOKEN: 'bench-admin-token-0123456789',
    NATS_STREAM_MAX_BYTES: String(256 * 1024 * 1024),
    DELIVERY_QUIET_HOURS: 'off',
    LOG_LEVEL: 'silent',
  }),
);
try {
  // Baseline: nodemailer, pooled like delivery's, the same messages straight to the sink.
  const direct = nodemailer.createTransport({
    url: `smtp://127.0.0.1:${smtpPort}`,
    pool: true,
    maxConnections: 5,
  });
  const baselineEmails = Array.from({ length: EMAILS }, (_, i) => rendered(i, 'direct').data);
  let started = performance.now();
  await windowed(EMAILS, WINDOW, (i) => {
    const email = baselineEmails[i]!;
    return direct.sendMail({
      from: 'bench@shop.example',
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
    });
  });
  const baselineSeconds = (performance.now() - started) / 1000;
  direct.close();

  // Measured: the same number of rendered emails through delivery.
  sink.clear();
  const publisher = service.app.get(MessagePublisher);
  const inputs = Array.from({ length: EMAILS }, (_, i) => rendered(i, 'mesh'));
  started = performance.now();
  await windowed(EMAILS, 256, (i) => publisher.publish(SUBJECTS.renderer.rendered, inputs[i]!));
  while (sink.messages().length < EMAILS) await new Promise((resolve) => setTimeout(resolve, 20));
  const meshSeconds = (performance.now() - started) / 1000;

  // The decision point alone (suppression, consent, quiet hours, caps), one call at a time.
  const decide = service.app.get(DecideSendUseCase);
  const samples: number[] = [];
  for (let i = 0; i < Math.min(EMAILS, 1_000); i++) {
    const input = rendered(i, 'decide');
    const t0 = performance.now();
    await decide.execute(input, `decide-${i}`, new Date());
    samples.push(performance.now() - t0);
  }
  const decision = percentiles(samples);

  const baseline = EMAILS / baselineSeconds;
  const mesh = EMAILS / meshSeconds;
  console.log(`bench/delivery: ${EMAILS} emails of ${HTML.length} bytes of HTML, local SMTP sink`);
  console.log(
    `nodemailer direct (pool 5, ${WINDOW} in flight)   ${baseline.toFixed(0).padStart(6)} emails/s`,
  );
  console.log(`delivery, whole decision path                    ${mesh.toFixed(0).padStart(6)} emails/s`);
  console.log(`ratio delivery ÷ direct: ${(mesh / baseline).toFixed(2)}×`);
  console.log(
    `decision point latency: p50 ${decision.p50.toFixed(2)} ms, p90 ${decision.p90.toFixed(2)} ms, p99 ${decision.p99.toFixed(2)} ms, max ${decision.max.toFixed(2)} ms`,
  );
  console.log(JSON.stringify({ emails: EMAILS, baseline, mesh, ratio: mesh / baseline, decision }));
} finally {
  await service.close();
  await sink.stop();
  await infra.stop();
}
