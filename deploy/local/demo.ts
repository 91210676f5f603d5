import { randomUUID } from 'node:crypto';
import { type ReceivedEmail, type SmtpSink } from '@mesh/testing';

const DEMO_USER = 'demo-user-1';
const DEMO_EMAIL = 'ada@example.com';

export const DEMO_IDENTIFY = {
  userId: DEMO_USER,
  traits: { email: DEMO_EMAIL, first_name: 'Ada', last_name: 'Lovelace' },
};

/** What other shoppers looked at, so the demo email has products to recommend. */
export const DEMO_BROWSING = [
  { product_id: 'sku-mouse-mx', name: 'Wireless Mouse', category: 'Accessories', price: 49, currency: 'EUR' },
  {
    product_id: 'sku-sleeve-13',
    name: 'Laptop Sleeve 13"',
    category: 'Accessories',
    price: 29,
    currency: 'EUR',
  },
  { product_id: 'sku-dock-usbc', name: 'USB-C Dock', category: 'Accessories', price: 119, currency: 'EUR' },
].map((product, index) => ({
  anonymousId: `demo-shopper-${index + 1}`,
  event: 'Product Viewed',
  properties: product,
}));

/**
 * Ada adds a laptop to a new cart: each run has its own cart, since the mesh sends one email per
 * (campaign, person, cart) and the local data persists between runs.
 */
export function demoTrack(cartId = `demo-cart-${Date.now()}`) {
  return {
    userId: DEMO_USER,
    event: 'Product Added',
    properties: {
      product_id: 'sku-laptop-13',
      name: 'Laptop 13"',
      category: 'Laptops',
      price: 1299,
      currency: 'EUR',
      cart_id: cartId,
      quantity: 1,
    },
  };
}

export type DemoOutcome =
  | { readonly kind: 'email'; readonly email: ReceivedEmail }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'no-email'; readonly reason: string };

/** Others browse, Ada is identified and adds a laptop to her cart; waits for the email the mesh sends her. */
export async function runDemo(
  ingestUrl: string,
  writeKey: string,
  sink: SmtpSink,
  timeoutMs: number,
): Promise<DemoOutcome> {
  const sentAt = Date.now();
  try {
    for (const view of DEMO_BROWSING) await postEvent(`${ingestUrl}/v1/track`, writeKey, view);
    await postEvent(`${ingestUrl}/v1/identify`, writeKey, DEMO_IDENTIFY);
    await postEvent(`${ingestUrl}/v1/track`, writeKey, demoTrack());
  } catch (error) {
    return { kind: 'rejected', reason: (error as Error).message };
  }
  const isDemoEmail = (email: ReceivedEmail): boolean =>
    email.to.includes(DEMO_EMAIL) && Date.parse(email.receivedAt) >= sentAt;
  try {
    return { kind: 'email', email: await sink.waitForEmail(isDemoEmail, timeoutMs) };
  } catch (error) {
    return { kind: 'no-email', reason: (error as Error).message };
  }
}

/** A Segment-style call: HTTP Basic with the write key as user name and an empty password. */
export function basicAuth(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

async function postEvent(url: string, writeKey: string, body: object): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: basicAuth(writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, messageId: randomUUID() }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    throw new Error(`POST ${url} answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  }
}
