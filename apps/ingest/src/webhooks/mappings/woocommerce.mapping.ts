import { type FieldSpec, type WebhookMapping } from '../webhook-mapping.js';

const money = (path: string): FieldSpec => ({ path, as: 'number' });

/** WooCommerce's REST webhooks (v3 payloads): orders and customers. Dates `*_gmt` carry no offset. */
export const WOOCOMMERCE_MAPPING: WebhookMapping = {
  name: 'woocommerce',
  topicHeader: 'x-wc-webhook-topic',
  deliveryIdHeader: 'x-wc-webhook-delivery-id',
  rules: [
    {
      topic: 'order.created',
      type: 'track',
      event: 'Order Completed',
      // A guest order has customer_id 0: its order key stands in, the billing e-mail links the person.
      userId: { path: '$.customer_id', as: 'string' },
      anonymousId: '$.order_key',
      timestamp: { path: '$.date_created_gmt', as: 'timestamp' },
      contextTraits: { email: '$.billing.email', phone: '$.billing.phone' },
      // No order-level subtotal in WooCommerce's payload: revenue is left out (consumers fall back to total).
      properties: {
        order_id: { path: '$.id', as: 'string' },
        total: money('$.total'),
        shipping: money('$.shipping_total'),
        tax: money('$.total_tax'),
        discount: money('$.discount_total'),
        coupon: '$.coupon_lines[0].code',
        currency: '$.currency',
        products: {
          path: '$.line_items[*]',
          each: {
            product_id: { path: '$.product_id', as: 'string' },
            sku: '$.sku',
            name: '$.name',
            price: money('$.price'),
            quantity: { path: '$.quantity', as: 'number' },
          },
        },
      },
    },
    {
      topic: 'customer.created',
      type: 'identify',
      userId: { path: '$.id', as: 'string' },
      timestamp: { path: '$.date_created_gmt', as: 'timestamp' },
      traits: {
        email: '$.email',
        first_name: '$.first_name',
        last_name: '$.last_name',
        phone: '$.billing.phone',
        created_at: { path: '$.date_created_gmt', as: 'timestamp' },
        address: {
          fields: {
            street: '$.billing.address_1',
            city: '$.billing.city',
            state: '$.billing.state',
            postal_code: '$.billing.postcode',
            country: '$.billing.country',
          },
        },
      },
    },
  ],
};
