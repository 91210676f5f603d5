import {
  type CampaignSpecDto,
  type Envelope,
  originEnvelope,
  type RenderedEmailPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { MessagePublisher } from '@mesh/messaging';
import { MONGO_DB } from '@mesh/storage';
import { type Db } from 'mongodb';
import { bootService, SmtpSink, startInfra, uniqueName } from '@mesh/testing';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import nodemailer from 'nodemailer';
import { DecideSendUseCase } from '../../apps/delivery/src/decisions/decide-send.usecase.js';
import { deliverySpec } from '../../apps/delivery/src/delivery.app.js';
import { ConsentRepository } from '../../apps/delivery/src/decisions/consent.repository.js';
import { FrequencyCapsRepository } from '../../apps/delivery/src/decisions/frequency-caps.repository.js';
import { SuppressionRepository } from '../../apps/delivery/src/decisions/suppression.repository.js';
import { DeferralsRepository } from '../../apps/delivery/src/deferrals/deferrals.repository.js';
import { HoldWindows } from '../../apps/delivery/src/deferrals/hold-windows.js';
import { Mailer } from '../../apps/delivery/src/sending/mailer.js';
import { SendLedgerRepository } from '../../apps/delivery/src/sending/send-ledger.repository.js';
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

/** A campaign a daily cap applies to: each email is held for the priority window, then released. */
const CAPPED: CampaignSpecDto = { ...CAMPAIGN, sendPolicy: { maxPerDay: 3, transactional: false } };
const PRIORITY_WINDOW_MS = 500;

function rendered(i: number, run: string, campaign = CAMPAIGN): Envelope<RenderedEmailPayload> {
  return originEnvelope({
    type: 'email.rendered',
    source: 'bench',
    occurredAt: new Date().toISOString(),
    profileId: `${run}-profile-${i}`,
    data: {
      campaign,
      triggerKey: 'bench',
      template: { id: 'bench', version: 1 },
      to: `${run}-${i}@bench${i % 20}.example`,
      subject: 'Your cart',
      html: HTML,
      text: 'Hello, see https://shop.example/p/1',
    },
  });
}

/** Times every call of the named methods of one of the service's instances (for the stage breakdown). */
const stages = new Map<string, number[]>();
function timeMethods(instance: object, label: string, methods: readonly string[]): void {
  const target = instance as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of methods) {
    const original = target[method]!.bind(instance);
    const samples: number[] = [];
    stages.set(`${label}.${method}`, samples);
    target[method] = async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return await original(...args);
      } finally {
        samples.push(performance.now() - t0);
      }
    };
  }
}

/** The stages' figures so far, as lines; starts them afresh. */
function takeStageReport(): string[] {
  const lines = [...stages]
    .filter(([, samples]) => samples.length > 0)
    .map(([stage, samples]) => {
      const { p50, p99 } = percentiles(samples);
      const mean = samples.reduce((sum, sample) => sum + sample, 0) / samples.length;
      return `  ${stage.padEnd(24)} ${String(samples.length).padStart(6)} calls  mean ${mean.toFixed(1).padStart(7)} ms  p50 ${p50.toFixed(1).padStart(7)} ms  p99 ${p99.toFixed(1).padStart(7)} ms`;
    });
  for (const samples of stages.values()) samples.length = 0;
  return lines;
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
    DELIVERY_PRIORITY_WINDOW_MS: String(PRIORITY_WINDOW_MS),
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

  // The database's ceiling in the same run: an insert then an update of one small document (what
  // the ledger does per email: claim, settle), 64 at a time, into the service's own database.
  const scratch = service.app.get<Db>(MONGO_DB).collection<{ _id: string; status: string }>('bench_scratch');
  started = performance.now();
  await windowed(EMAILS, WINDOW, async (i) => {
    await scratch.insertOne({ _id: `k${i}`, status: 'sending' });
    await scratch.updateOne({ _id: `k${i}` }, { $set: { status: 'sent' } });
  });
  const writePairs = EMAILS / ((performance.now() - started) / 1000);
  await scratch.drop();

  // Measured: the same number of rendered emails through delivery.
  sink.clear();
  const publisher = service.app.get(MessagePublisher);
  timeMethods(service.app.get(SendLedgerRepository), 'ledger', ['find', 'claim', 'settle']);
  timeMethods(service.app.get(SuppressionRepository), 'suppressions', ['find']);
  timeMethods(service.app.get(ConsentRepository), 'consents', ['find']);
  timeMethods(service.app.get(FrequencyCapsRepository), 'caps', ['reserve']);
  timeMethods(service.app.get(Mailer), 'smtp', ['send']);
  timeMethods(publisher, 'nats', ['publish']);
  timeMethods(service.app.get(DeferralsRepository), 'deferrals', ['hold', 'get', 'lease', 'remove']);
  timeMethods(service.app.get(HoldWindows), 'windows', ['join', 'take']);
  const inputs = Array.from({ length: EMAILS }, (_, i) => rendered(i, 'mesh'));
  // BENCH_CPU_PROFILE=<file>: a CPU profile of this phase only (open it in Chrome DevTools).
  const profiler = process.env.BENCH_CPU_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  started = performance.now();
  await windowed(EMAILS, 256, (i) => publisher.publish(SUBJECTS.renderer.rendered, inputs[i]!));
  while (sink.messages().length < EMAILS) await new Promise((resolve) => setTimeout(resolve, 20));
  const meshSeconds = (performance.now() - started) / 1000;
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }

  const stageReport = takeStageReport();

  // The same through a capped campaign: held for the priority window, released by profile.
  sink.clear();
  const cappedInputs = Array.from({ length: EMAILS }, (_, i) => rendered(i, 'capped', CAPPED));
  started = performance.now();
  await windowed(EMAILS, 256, (i) => publisher.publish(SUBJECTS.renderer.rendered, cappedInputs[i]!));
  while (sink.messages().length < EMAILS) await new Promise((resolve) => setTimeout(resolve, 20));
  const cappedSeconds = (performance.now() - started) / 1000;
  const cappedStageReport = takeStageReport();

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
    `MongoDB (FerretDB) insert + update pairs, 64 at once: ${writePairs.toFixed(0)}/s (a sent email writes the ledger twice and one metric fact)`,
  );
  const capped = EMAILS / cappedSeconds;
  console.log(
    `delivery, capped campaign (held ${PRIORITY_WINDOW_MS} ms)    ${capped.toFixed(0).padStart(6)} emails/s (${(capped / baseline).toFixed(2)}×)`,
  );
  console.log(
    `decision point latency: p50 ${decision.p50.toFixed(2)} ms, p90 ${decision.p90.toFixed(2)} ms, p99 ${decision.p99.toFixed(2)} ms, max ${decision.max.toFixed(2)} ms`,
  );
  console.log('stages of the whole path (all in flight together):');
  for (const line of stageReport) console.log(line);
  console.log('stages of the capped campaign:');
  for (const line of cappedStageReport) console.log(line);
  console.log(
    JSON.stringify({ emails: EMAILS, baseline, mesh, ratio: mesh / baseline, capped, writePairs, decision }),
  );
} finally {
  await service.close();
  await sink.stop();
  await infra.stop();
}
