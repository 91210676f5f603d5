import { Injectable } from '@nestjs/common';
import { type EnvelopeOf } from '@mesh/messaging';
import { PropensityRepository } from '../propensity/propensity.repository.js';
import { EVENT_WEIGHTS, type Interaction, SignalStore } from '../signals/signal-store.js';
import { CatalogRepository } from './catalog.repository.js';
import { productsOf } from './product-events.js';

/** The interaction a resolved e-commerce event records, if it is one. */
export function interactionOf(envelope: EnvelopeOf<'identity.resolved.track'>): Interaction | undefined {
  const weight = EVENT_WEIGHTS[envelope.data.event];
  if (weight === undefined) return undefined;
  const products = productsOf(envelope.data.properties);
  if (products.length === 0) return undefined;
  return {
    messageId: envelope.id,
    profileId: envelope.profileId,
    at: Date.parse(envelope.occurredAt),
    weight,
    purchase: envelope.data.event === 'Order Completed',
    products: products.map((product) => ({ id: product.product_id, category: product.category })),
  };
}

/** Keeps the catalog and the streaming signals up to date from e-commerce events. */
@Injectable()
export class LearnFromEventUseCase {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly signals: SignalStore,
    private readonly propensity?: PropensityRepository,
  ) {}

  async execute(envelope: EnvelopeOf<'identity.resolved.track'>): Promise<void> {
    if (envelope.data.userId && envelope.profileId)
      await this.signals.link(envelope.data.userId, envelope.profileId);
    const interaction = interactionOf(envelope);
    if (!interaction) return;
    // Categories an event names only by id come from what the catalog already knows.
    const products = productsOf(envelope.data.properties);
    await this.catalog.upsert(products);
    const known = new Map(
      (await this.catalog.find(products.map((p) => p.product_id))).map((p) => [p.product_id, p]),
    );
    // Purchases are the propensity model's labels.
    if (interaction.purchase && interaction.profileId && this.propensity)
      await this.propensity.savePurchase({
        _id: envelope.id,
        profileId: interaction.profileId,
        at: new Date(interaction.at),
      });
    await this.signals.record({
      ...interaction,
      products: interaction.products.map((product) => ({
        id: product.id,
        category: product.category ?? known.get(product.id)?.category,
      })),
    });
  }
}
