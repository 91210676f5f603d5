import { Injectable } from '@nestjs/common';
import {
  deriveEnvelope,
  type ProductDto,
  type RecommendationsDto,
  type SendIntentPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher } from '@mesh/messaging';
import { CatalogRepository } from '../catalog/catalog.repository.js';
import { PopularityRepository } from '../catalog/popularity.repository.js';
import { productsOf } from '../catalog/product-events.js';

/**
 * Attaches products to a send intent. Today every strategy but `none` answers with the most popular
 * products the person does not already have in hand; trained models replace this here.
 */
@Injectable()
export class AttachRecommendationsUseCase {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly popularity: PopularityRepository,
    private readonly publisher: MessagePublisher,
  ) {}

  async execute(envelope: EnvelopeOf<'enrichment.triggered'>): Promise<void> {
    const recommendations = await this.recommend(envelope.data);
    await this.publisher.publish(
      SUBJECTS.recommendation.attached,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.recommendation.attached,
        type: 'recommendations.attached',
        data: { ...envelope.data, recommendations },
      }),
    );
  }

  private async recommend(intent: SendIntentPayload): Promise<RecommendationsDto> {
    const { strategy, limit } = intent.campaign.recommendation;
    if (strategy === 'none' || limit === 0) return { strategy, items: [] };
    const inHand = new Set(productsOf(intent.trigger.properties).map((product) => product.product_id));
    const candidates = (await this.popularity.top(limit + inHand.size)).filter((id) => !inHand.has(id));
    const items: ProductDto[] = await this.catalog.find(candidates.slice(0, limit));
    return { strategy, modelVersion: 'popularity-v0', items };
  }
}
