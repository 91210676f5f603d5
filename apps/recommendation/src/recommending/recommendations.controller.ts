import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type RecommendationsDto } from '@mesh/contracts';
import { AdminTokenGuard } from '@mesh/runtime';
import { SignalStore } from '../signals/signal-store.js';
import { RecommendationRequestDto } from './recommendation-request.dto.js';
import { Recommender } from './recommender.js';

/** Recommendations on request: the items with scores and reasons (and a fallback said out loud). */
@Controller('api/recommendations')
@UseGuards(AdminTokenGuard)
export class RecommendationsController {
  constructor(
    private readonly recommender: Recommender,
    private readonly signals: SignalStore,
  ) {}

  @Post()
  @HttpCode(200)
  async recommend(
    @Body() body: RecommendationRequestDto,
  ): Promise<RecommendationsDto & { customer_id: string; profile_id: string }> {
    const profileId = await this.signals.profileOf(body.customer_id);
    const context = body.context ?? {};
    const cart = context.cart ?? [];
    const strategy = body.strategy ?? 'personal';
    const answer = await this.recommender.recommend({
      strategy,
      limit: body.count ?? 5,
      profileId,
      category: body.category,
      // Bought together pairs with the cart, else with the product browsed last.
      inHand:
        cart.length > 0 || strategy !== 'bought_together'
          ? cart
          : (context.browsing_history ?? []).slice(0, 1),
      browsed: context.browsing_history,
      purchased: context.purchase_history,
      minPrice: body.min_price,
      maxPrice: body.max_price,
      maxPerCategory: body.max_per_category,
    });
    return { customer_id: body.customer_id, profile_id: profileId, ...answer };
  }
}
