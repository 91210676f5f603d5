import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { SHOPIFY_MAPPING } from './mappings/shopify.mapping.js';
import { WOOCOMMERCE_MAPPING } from './mappings/woocommerce.mapping.js';
import { applyMapping } from './webhook-mapping.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/${name}.json`, import.meta.url), 'utf8'));

describe('webhook mappings', () => {
  it('turns a Shopify orders/create into Order Completed with EVENTS.md properties', () => {
    expect(applyMapping(SHOPIFY_MAPPING, 'orders/create', fixture('shopify-orders-create'))).toEqual([
      {
        type: 'track',
        body: {
          userId: '7012345678901',
          timestamp: '2026-11-28T17:34:56.000Z',
          context: { traits: { email: 'jon@example.com' } },
          event: 'Order Completed',
          properties: {
            order_id: '5912345678901',
            total: 403,
            revenue: 388,
            shipping: 15,
            tax: 0,
            discount: 10,
            coupon: 'WELCOME10',
            currency: 'USD',
            products: [
              {
                product_id: '632910392',
                sku: 'IPOD2008PINK',
                name: 'IPod Nano - 8GB',
                brand: 'Apple',
                price: 199,
                quantity: 1,
              },
              {
                product_id: '632910392',
                sku: 'IPOD2008PINK',
                name: 'IPod Nano - 8GB',
                brand: 'Apple',
                price: 199,
                quantity: 1,
              },
            ],
          },
        },
      },
    ]);
  });

  it('turns a Shopify customers/create into an identify with reserved traits', () => {
    expect(applyMapping(SHOPIFY_MAPPING, 'customers/create', fixture('shopify-customers-create'))).toEqual([
      {
        type: 'identify',
        body: {
          userId: '7023456789012',
          timestamp: '2026-11-28T17:00:00.000Z',
          traits: {
            email: 'bob@biller.com',
            first_name: 'Bob',
            last_name: 'Biller',
            created_at: '2026-11-28T17:00:00.000Z',
            address: {
              street: "151 O'Connor Street",
              city: 'Ottawa',
              state: 'Ontario',
              postal_code: 'K2P 2L8',
              country: 'CA',
            },
          },
        },
      },
    ]);
  });

  it('turns a WooCommerce guest order.created into Order Completed keyed by its order key', () => {
    expect(applyMapping(WOOCOMMERCE_MAPPING, 'order.created', fixture('woocommerce-order-created'))).toEqual([
      {
        type: 'track',
        body: {
          anonymousId: 'wc_order_58d2d042d1d',
          timestamp: '2026-11-28T18:22:10.000Z',
          context: { traits: { email: 'john.doe@example.com', phone: '(555) 555-5555' } },
          event: 'Order Completed',
          properties: {
            order_id: '727',
            total: 35.35,
            shipping: 10,
            tax: 1.35,
            discount: 5,
            coupon: 'autumn5',
            currency: 'EUR',
            products: [
              { product_id: '93', sku: 'WOO-SINGLE-1', name: 'Woo Single #1', price: 6, quantity: 2 },
              {
                product_id: '22',
                name: 'Ship Your Idea - Color: Black, Size: M Test',
                price: 12,
                quantity: 1,
              },
            ],
          },
        },
      },
    ]);
  });

  it('turns a WooCommerce customer.created into an identify', () => {
    const [call] = applyMapping(
      WOOCOMMERCE_MAPPING,
      'customer.created',
      fixture('woocommerce-customer-created'),
    );
    expect(call).toEqual({
      type: 'identify',
      body: {
        userId: '25',
        timestamp: '2026-11-28T19:33:08.000Z',
        traits: {
          email: 'jane.roe@example.com',
          first_name: 'Jane',
          last_name: 'Roe',
          phone: '+33 1 23 45 67 89',
          created_at: '2026-11-28T19:33:08.000Z',
          address: { street: '12 Rue de Rivoli', city: 'Paris', postal_code: '75004', country: 'FR' },
        },
      },
    });
  });

  it('ignores topics the mapping has no rule for', () => {
    expect(applyMapping(SHOPIFY_MAPPING, 'products/update', fixture('shopify-orders-create'))).toEqual([]);
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom('orders/create', 'customers/create', 'order.created'),
        (json, topic) => {
          applyMapping(SHOPIFY_MAPPING, topic, json);
          applyMapping(WOOCOMMERCE_MAPPING, topic, json);
        },
      ),
    );
  });
});
