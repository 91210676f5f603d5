import { SERVICES, type ServiceName } from '@mesh/contracts';
import {
  freePort,
  type Infra,
  OtlpReceiver,
  SmtpSink,
  startInfra,
  startServiceProcesses,
  type ServiceProcesses,
  uniqueName,
  waitFor,
} from '@mesh/testing';

const WRITE_KEY = 'e2e-write-key-0123456789abcdef';

/**
 * The whole mesh as it runs in production: six separate processes over real NATS JetStream, Redis
 * and FerretDB, one event in through ingest's HTTP API, one email out over SMTP.
 */
describe('one event walks through all six services', () => {
  let infra: Infra;
  let sink: SmtpSink;
  let otlp: OtlpReceiver;
  let mesh: ServiceProcesses;

  beforeAll(async () => {
    infra = await startInfra({ nats: true, redis: true, mongo: true });
    sink = new SmtpSink();
    const smtpPort = await sink.start();
    otlp = new OtlpReceiver();
    const otlpUrl = await otlp.start();
    const ports = new Map<ServiceName, number>();
    for (const service of SERVICES) ports.set(service, await freePort());
    const databasePrefix = uniqueName('e2e');
    mesh = await startServiceProcesses({
      env: {
        NATS_URL: infra.natsUrl!,
        REDIS_URL: infra.redisUrl!,
        NATS_STREAM_MAX_BYTES: String(64 * 1024 * 1024),
        MESH_ADMIN_TOKEN: 'e2e-admin-token-0123456789',
        MESH_DEMO: 'true',
        MESH_DEMO_WRITE_KEY: WRITE_KEY,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
        OTEL_BSP_SCHEDULE_DELAY: '200',
        LOG_LEVEL: 'warn',
      },
      serviceEnv: (service) => ({
        PORT: String(ports.get(service)),
        MONGO_URL: `${infra.mongoUrl}/${databasePrefix}_${service}`,
      }),
    });
  }, 120_000);

  afterAll(async () => {
    await mesh?.stop();
    await sink?.stop();
    await otlp?.stop();
    await infra?.stop();
  });

  const send = async (path: string, body: object) => {
    const response = await fetch(`${mesh.url('ingest')}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
  };

  it('turns a cart event into one personalized email, traced end to end', async () => {
    await send('/v1/track', {
      anonymousId: 'shopper-2',
      event: 'Product Viewed',
      properties: { product_id: 'sku-mouse', name: 'Wireless Mouse', price: 25, currency: 'EUR' },
    });
    await send('/v1/identify', {
      userId: 'user-ada',
      traits: { email: 'ada@example.com', first_name: 'Ada' },
    });
    await send('/v1/track', {
      userId: 'user-ada',
      event: 'Product Added',
      properties: {
        product_id: 'sku-laptop',
        name: 'Laptop 13',
        price: 1299,
        currency: 'EUR',
        cart_id: 'cart-1',
      },
    });

    const email = await sink.waitForEmail((received) => received.to.includes('ada@example.com'), 30_000);
    expect(email.subject).toBe('Ada, you left Laptop 13 in your cart');
    expect(email.html).toContain('Hello Ada');
    expect(email.text).toContain('Wireless Mouse');

    // The email's Message-ID is the delivery ledger's key; find its SMTP span and that span's trace.
    const smtpSpan = await waitFor(
      'the SMTP span',
      () =>
        otlp
          .spans()
          .find(
            (span) =>
              span.name === 'smtp send' &&
              `${String(span.attributes['email.message_id'])}` === email.messageId,
          ),
      15_000,
    );
    const servicesInTrace = () =>
      new Set(
        otlp
          .spans()
          .filter((span) => span.traceId === smtpSpan.traceId)
          .map((span) => span.service),
      );
    await waitFor(
      'a span from every service in the trace',
      () => SERVICES.every((service) => servicesInTrace().has(service)),
      15_000,
    );

    const trace = otlp.spans().filter((span) => span.traceId === smtpSpan.traceId);
    // It starts at ingest's HTTP request (a server span) and every hop is a process span of its consumer.
    expect(trace.some((span) => span.service === 'ingest' && span.kind === 2)).toBe(true);
    for (const subject of [
      'ingest.track',
      'identity.resolved.track',
      'enrichment.triggered',
      'recommendation.attached',
      'renderer.rendered',
    ]) {
      expect(trace.some((span) => span.name === `process ${subject}`)).toBe(true);
    }

    // Exactly one email, even though the stream could redeliver.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sink.messages().filter((received) => received.to.includes('ada@example.com'))).toHaveLength(1);
  });
});
