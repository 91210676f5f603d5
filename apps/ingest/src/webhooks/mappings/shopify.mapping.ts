import { type FieldSpec, type WebhookMapping } from '../webhook-mapping.js';

const money = (path: string): FieldSpec => ({ path, as: 'number' });

const products: FieldSpec = {
  path: '$.line_items[*]',
  each: {
    product_id: { path: '$.product_id', as: 'string' },
    sku: '$.sku',
    name: '$.title',
    brand: '$.vendor',
    price: money('$.price'),
    quantity: { path: '$.quantity', as: 'number' },
  },
};

const order = {
  userId: { path: '$.customer.id', as: 'string' },
  // Guest checkouts have no customer: the order's token stands in, the e-mail links the person.
  anonymousId: '$.token',
  contextTraits: { email: '$.email', phone: '$.phone' },
} as const;

/** Shopify's Admin API webhooks (REST payloads): orders and customers. Amounts arrive as strings. */
export const SHOPIFY_MAPPING: WebhookMapping = {
  name: 'shopify',
  topicHeader: 'x-shopify-topic',
  deliveryIdHeader: 'x-shopify-webhook-id',
  rules: [
    {
      topic: 'orders/create',
      type: 'track',
      event: 'Order Completed',
      ...order,
      timestamp: { path: '$.created_at', as: 'timestamp' },
      properties: {
        order_id: { path: '$.id', as: 'string' },
        total: money('$.total_price'),
        revenue: money('$.subtotal_price'),
        shipping: money('$.total_shipping_price_set.shop_money.amount'),
        tax: money('$.total_tax'),
        discount: money('$.total_discounts'),
        coupon: '$.discount_codes[0].code',
        currency: '$.currency',
        products,
      },
    },
    {
      topic: 'orders/cancelled',
      type: 'track',
      event: 'Order Cancelled',
      ...order,
      timestamp: { path: '$.cancelled_at', as: 'timestamp' },
      properties: {
        order_id: { path: '$.id', as: 'string' },
        total: money('$.total_price'),
        currency: '$.currency',
        products,
      },
    },
    {
      topic: 'customers/create',
      type: 'identify',
      userId: { path: '$.id', as: 'string' },
      timestamp: { path: '$.created_at', as: 'timestamp' },
      traits: {
        email: '$.email',
        phone: '$.phone',
        first_name: '$.first_name',
        last_name: '$.last_name',
        created_at: { path: '$.created_at', as: 'timestamp' },
        address: {
          fields: {
            street: '$.default_address.address1',
            city: '$.default_address.city',
            state: '$.default_address.province',
            postal_code: '$.default_address.zip',
            country: '$.default_address.country_code',
          },
        },
      },
    },
  ],
};
