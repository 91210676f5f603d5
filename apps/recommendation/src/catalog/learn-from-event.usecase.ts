import { Injectable } from '@nestjs/common';
import { type EnvelopeOf } from '@mesh/messaging';
import { CatalogRepository } from './catalog.repository.js';
import { PopularityRepository } from './popularity.repository.js';
import { POPULARITY_WEIGHTS, productsOf } from './product-events.js';

/** Keeps the catalog and product popularity up to date from e-commerce events. */
@Injectable()
export class LearnFromEventUseCase {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly popularity: PopularityRepository,
  ) {}

  async execute(envelope: EnvelopeOf<'identity.resolved.track'>): Promise<void> {
    const weight = POPULARITY_WEIGHTS[envelope.data.event];
    if (weight === undefined) return;
    const products = productsOf(envelope.data.properties);
    if (products.length === 0) return;
    await this.catalog.upsert(products);
    await this.popularity.countOnce(
      envelope.id,
      products.map((product) => product.product_id),
      weight,
    );
  }
}
