import {
  type CampaignSpecDto,
  type DeliverySentPayload,
  deterministicId,
  type Envelope,
  originEnvelope,
  type RenderedEmailPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type Published } from '@mesh/messaging';
import {
  consumerIsIdle,
  type ReceivedEmail,
  type ServiceUnderTest,
  SmtpSink,
  startServiceUnderTest,
  type TappedMessage,
  waitFor,
} from '@mesh/testing';
import { deliverySpec } from '../src/delivery.app.js';

/** What the specs set MESH_PUBLIC_URL to: the links in delivery's emails start with it. */
export const PUBLIC_URL = 'https://mesh.shop.example';
/** The admin API's credentials (startServiceUnderTest gives delivery this token). */
export const ADMIN = { authorization: 'Bearer delivery-test-admin-token' };

/** A JetStream consumer of delivery's, to wait for until it has settled everything it was given. */
export interface Consumer {
  stream: string;
  durable: string;
}
export const RENDERED_CONSUMER: Consumer = { stream: 'RENDERER', durable: 'delivery__renderer_rendered' };

/** A send ledger entry, as far as the specs read it. */
export interface SendDocument {
  _id: string;
  status: string;
  smtpMessageId: string;
  attempts: number;
  error?: string;
  sentAt?: Date;
}

export interface DeliveryUnderTestOptions {
  /** More variables for delivery (caps, DKIM, webhooks…); SMTP_URL already points at the sink. */
  env?: Record<string, string>;
}

/**
 * Delivery booted in this process against its own servers (Redis included), sending to an SMTP
 * sink, with a tap on every subject; plus the helpers most specs need.
 */
export interface DeliveryUnderTest extends ServiceUnderTest {
  sink: SmtpSink;
  /** The sink's port: a spec that stops the sink starts it again here. */
  smtpPort: number;
  /** Publishes an email on renderer.rendered, as the renderer would. */
  publishRendered(input: Envelope<RenderedEmailPayload>): Promise<Published>;
  /** Publishes an email and waits for the delivery.sent it causes. */
  deliverRendered<T = DeliverySentPayload>(input: Envelope<RenderedEmailPayload>): Promise<TappedMessage<T>>;
  /** Every email the sink received for `address`. */
  emailsTo(address: string): ReceivedEmail[];
  /** The send ledger's entry for a send key. */
  ledger(key: string): Promise<SendDocument | null>;
  /** A link from an email (it starts with PUBLIC_URL), pointed at the service under test. */
  local(url: string): string;
  /** Waits until every one of `consumers` has settled what it was given. */
  settled(description: string, consumers: readonly Consumer[], timeoutMs?: number): Promise<true>;
}

/** Starts the SMTP sink, then delivery sending to it; close() stops both. */
export async function startDeliveryUnderTest(
  options: DeliveryUnderTestOptions = {},
): Promise<DeliveryUnderTest> {
  const sink = new SmtpSink();
  const smtpPort = await sink.start();
  let under: ServiceUnderTest;
  try {
    under = await startServiceUnderTest({
      name: 'delivery',
      spec: deliverySpec,
      redis: true,
      tap: '>',
      env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, ...options.env },
    });
  } catch (error) {
    await sink.stop();
    throw error;
  }
  const { db, natsUrl, publisher, tap } = under;
  return {
    ...under,
    sink,
    smtpPort,
    publishRendered: (input) => publisher.publish(SUBJECTS.renderer.rendered, input),
    deliverRendered: async <T>(input: Envelope<RenderedEmailPayload>) => {
      await publisher.publish(SUBJECTS.renderer.rendered, input);
      return tap.nextCausedBy<T>(SUBJECTS.delivery.sent, input);
    },
    emailsTo: (address) => sink.messages().filter((email) => email.to.includes(address)),
    ledger: (key) => db.collection<SendDocument>('sends').findOne({ _id: key }),
    local: (url) => url.replace(PUBLIC_URL, under.service.url),
    settled: (description, consumers, timeoutMs) =>
      consumersSettled(natsUrl, description, consumers, timeoutMs),
    close: async () => {
      await under.close();
      await sink.stop();
    },
  };
}

/** Waits until every one of `consumers` has settled what it was given (for delivery run as a process, too). */
export function consumersSettled(
  natsUrl: string,
  description: string,
  consumers: readonly Consumer[],
  timeoutMs?: number,
): Promise<true> {
  return waitFor(
    description,
    async () => {
      for (const { stream, durable } of consumers) {
        if (!(await consumerIsIdle(natsUrl, stream, durable))) return false;
      }
      return true as const;
    },
    timeoutMs,
  );
}

/** A campaign with what the specs leave out filled in: no recommendations, no cap, not transactional. */
export function campaignSpec(campaignId: string, extra: Partial<CampaignSpecDto> = {}): CampaignSpecDto {
  return {
    campaignId,
    name: campaignId,
    templateId: campaignId,
    recommendation: { strategy: 'none', limit: 0 },
    sendPolicy: { maxPerDay: 0, transactional: false },
    ...extra,
  };
}

/**
 * An email.rendered envelope as the renderer publishes it: to `<profileId>@example.com`, trigger key
 * t-1, version 1 of the campaign's template, a short body; `data` overrides any of it.
 */
export function renderedEmail(
  profileId: string,
  campaign: CampaignSpecDto,
  data: Partial<RenderedEmailPayload> = {},
): Envelope<RenderedEmailPayload> {
  return originEnvelope({
    type: 'email.rendered',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId,
    data: {
      campaign,
      triggerKey: 't-1',
      template: { id: campaign.templateId, version: 1 },
      to: `${profileId}@example.com`,
      subject: `${campaign.campaignId} for ${profileId}`,
      html: '<p>Hello</p>',
      text: 'Hello',
      ...data,
    },
  });
}

/** The ledger key: one email per (campaign, profile, trigger key); also the email's Message-ID. */
export const sendKey = (email: Envelope<RenderedEmailPayload>) =>
  deterministicId('send', email.data.campaign.campaignId, email.profileId!, email.data.triggerKey);

/** The tracked links delivery puts in an email: a click, the open pixel, one-click unsubscribe. */
export const clickLink = (email: ReceivedEmail) => /href="([^"]+\/t\/c\/[^"]+)"/.exec(email.html)![1]!;
export const pixelLink = (email: ReceivedEmail) => /src="([^"]+\/t\/o\/[^"]+)"/.exec(email.html)![1]!;
export const unsubscribeLink = (email: ReceivedEmail) =>
  /<(https:[^>]+)>/.exec(email.headers['list-unsubscribe']!)![1]!;
