import { type ProductDto } from '@mesh/contracts';

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function productOf(raw: Record<string, unknown>, currency: unknown): ProductDto | undefined {
  const productId = text(raw.product_id) ?? text(raw.sku);
  if (!productId) return undefined;
  const fields: Partial<ProductDto> = {
    sku: text(raw.sku),
    category: text(raw.category),
    name: text(raw.name),
    brand: text(raw.brand),
    price: number(raw.price),
    currency: text(raw.currency) ?? text(currency),
    url: text(raw.url),
    image_url: text(raw.image_url),
  };
  const present = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return { product_id: productId, ...present };
}

/** The products an event is about: its own product fields, or its `products[]`. */
export function productsOf(properties: Record<string, unknown>): ProductDto[] {
  const list = Array.isArray(properties.products) ? (properties.products as unknown[]) : [properties];
  return list
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item) => productOf(item, properties.currency))
    .filter((product): product is ProductDto => product !== undefined);
}
