import { IsInt, IsObject, IsString, Length, Min } from 'class-validator';

/** The profile as enrichment knows it at one moment: what later stages decide and render on. */
export class ProfileSnapshotDto {
  @IsString() @Length(1, 128) profileId!: string;
  /** Reserved and custom traits (EVENTS.md), keys as the customer sent them. */
  @IsObject() traits!: Record<string, unknown>;
  /** Computed attributes (RFM, engagement, affinity, cart state…). */
  @IsObject() computed!: Record<string, unknown>;
  @IsInt() @Min(0) version!: number;
}

/**
 * The computed attributes enrichment keeps (issue 5), by the names every later stage reads: templates
 * (`computed.cart.items`), segments, delivery's consent view and recommendation's propensity features.
 * All optional: a profile has only what its events gave. Times are ISO-8601, money in `currency`.
 */
export interface ComputedAttributes {
  /** Days since the last order, at the time of the snapshot. */
  recency_days?: number;
  /** Orders in the RFM window (`rfm_window_days`). */
  frequency?: number;
  /** Revenue in the RFM window. */
  monetary?: number;
  rfm_window_days?: number;
  /**
   * Frequency, monetary and their scores over each configured window, by its length (`"30d"`,
   * `"90d"`, …): `computed.rfm_windows.30d.frequency`. The fields above are those of `rfm_window_days`.
   */
  rfm_windows?: Record<string, RfmWindow>;
  /** 1 (worst) to 5 (best). */
  r_score?: number;
  f_score?: number;
  m_score?: number;
  lifetime_value?: number;
  orders_count?: number;
  first_order_at?: string;
  last_order_at?: string;
  currency?: string;
  /** Opens and clicks with time decay; 0 when none. */
  engagement_score?: number;
  last_open_at?: string;
  last_click_at?: string;
  last_seen_at?: string;
  /** The category bought most (by count). */
  purchased_category?: string;
  /** Most viewed categories, most first. */
  top_viewed_categories?: string[];
  /** Category → decayed weight from views, adds and purchases. */
  category_affinity?: Record<string, number>;
  /** Most recent first, at most 10. */
  last_viewed_products?: ComputedProduct[];
  cart?: ComputedCart;
  /** Per channel; the newest statement wins. */
  consent?: { email?: { status: 'opted_in' | 'opted_out'; source: string; at: string } };
}

/** Orders and revenue in one window of days, scored 1 (worst) to 5 (best). */
export interface RfmWindow {
  days: number;
  frequency: number;
  monetary: number;
  f_score: number;
  m_score: number;
}

export interface ComputedProduct {
  product_id: string;
  name?: string;
  category?: string;
  price?: number;
  currency?: string;
  quantity?: number;
  url?: string;
  image_url?: string;
}

export interface ComputedCart {
  cart_id?: string;
  items: ComputedProduct[];
  value: number;
  currency?: string;
  updated_at: string;
}
