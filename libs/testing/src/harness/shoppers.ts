/** The address of the shopper named `token` (see shopperBatch). */
export function shopperAddress(token: string): string {
  return `${token}@example.com`;
}

/**
 * One new shopper as the store budget and the mesh bench send them: a `/v1/batch` body that identifies a
 * new address and adds a laptop to a new cart, which the demo campaign answers with one email. Every
 * id in it contains `token`.
 */
export function shopperBatch(token: string): { batch: object[] } {
  const userId = `user-${token}`;
  return {
    batch: [
      { type: 'identify', userId, traits: { email: shopperAddress(token), first_name: 'Ada' } },
      {
        type: 'track',
        userId,
        event: 'Product Added',
        properties: {
          product_id: 'sku-laptop-13',
          name: 'Laptop 13',
          price: 1299,
          currency: 'EUR',
          cart_id: `cart-${token}`,
        },
      },
    ],
  };
}

/** Sends the shopper named `token` to ingest with `writeKey`; resolves with the HTTP status. */
export async function sendShopper(ingestUrl: string, writeKey: string, token: string): Promise<number> {
  const response = await fetch(`${ingestUrl}/v1/batch`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(shopperBatch(token)),
  });
  await response.body?.cancel();
  return response.status;
}

/** The profile id identity gave the shopper named `token` (through its admin API). */
export async function shopperProfileId(
  identityUrl: string,
  adminToken: string,
  token: string,
): Promise<string> {
  const url = `${identityUrl}/api/profiles?email=${encodeURIComponent(shopperAddress(token))}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}
