import { Injectable } from '@nestjs/common';
import { deriveEnvelope, type RecommendationsDto, type SendIntentPayload, SUBJECTS } from '@mesh/contracts';
import { type EnvelopeOf, MessagePublisher } from '@mesh/messaging';
import { productsOf } from '../catalog/product-events.js';
import { FeedbackStore } from '../feedback/feedback.module.js';
import { PropensityScorer } from '../propensity/propensity-scorer.js';
import { Recommender } from './recommender.js';

/**
 * Attaches the campaign's strategy's products to a send intent, computed from the signals at send
 * time; the products of the trigger (the cart, the product viewed) are the ones in hand.
 */
@Injectable()
export class AttachRecommendationsUseCase {
  constructor(
    private readonly recommender: Recommender,
    private readonly publisher: MessagePublisher,
    private readonly propensity: PropensityScorer,
    private readonly feedback: FeedbackStore,
  ) {}

  async execute(envelope: EnvelopeOf<'enrichment.triggered'>): Promise<void> {
    const recommendations = await this.recommend(envelope.data, envelope.profileId);
    // Remembered first, so a click on this email can be credited to the product it leads to.
    await this.feedback.shown(
      envelope.data.campaign.campaignId,
      envelope.data.triggerKey,
      recommendations.items,
    );
    await this.publisher.publish(
      SUBJECTS.recommendation.attached,
      deriveEnvelope(envelope, {
        stage: SUBJECTS.recommendation.attached,
        type: 'recommendations.attached',
        data: { ...envelope.data, recommendations },
      }),
    );
  }

  private async recommend(
    intent: SendIntentPayload,
    profileId = intent.profile.profileId,
  ): Promise<RecommendationsDto> {
    const { strategy, limit, category } = intent.campaign.recommendation;
    const score = await this.propensity.score(profileId);
    const recommendations = await this.recommender.recommend({
      strategy,
      limit,
      category,
      profileId,
      inHand: productsOf(intent.trigger.properties).map((product) => product.product_id),
    });
    return score
      ? { ...recommendations, propensity: round(score.propensity), modelVersion: score.modelVersion }
      : recommendations;
  }
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
