import { type ComputedCart, type ComputedProduct } from '@mesh/contracts';
import { type ProfileInput } from './profile-input.js';

/** An order as enrichment remembers it for RFM and lifetime value. */
export interface OrderRecord {
  order_id: string;
  at: string;
  revenue: number;
  currency?: string;
  refunded?: boolean;
  categories: string[];
}

export interface ConsentRecord {
  status: 'opted_in' | 'opted_out';
  source: string;
  at: string;
}

/** What a profile's computed attributes are derived from; never sent as is. */
export interface ProfileState {
  orders: OrderRecord[];
  /** Lifetime revenue and orders, in `currency` (orders in other currencies are counted, not summed). */
  ltv: number;
  ordersCount: number;
  currency?: string;
  engagement?: { score: number; at: string };
  lastOpenAt?: string;
  lastClickAt?: string;
  /** Category → weight, decayed to `affinityAt`. */
  affinity: Record<string, number>;
  affinityAt?: string;
  viewedCategories: Record<string, number>;
  purchasedCategories: Record<string, number>;
  lastViewed: Array<ComputedProduct & { at: string }>;
  cart?: ComputedCart;
  /** When the cart was last emptied by an order: an older cart event is not applied after it. */
  cartClearedAt?: string;
  consent?: { email?: ConsentRecord };
  lastSeenAt?: string;
  lastEvent?: { name: string; at: string };
  /** Third-party answers by provider (e.g. `email_domain`). */
  thirdParty?: Record<string, Record<string, unknown>>;
  /** Event name → UTC day (YYYY-MM-DD) → count, for segment rules over the last N days. */
  eventDays: Record<string, Record<string, number>>;
  /** When the segment membership next changes with time alone (epoch ms), as scheduled in Redis. */
  reviewAt?: number;
  /** Merges folded into this profile that a split may still undo, and what it was given since. */
  sinceMerges?: SinceMerges;
}

/** Something applied to a survivor after merges (ids in `merges`), replayed when one is split. */
export type ReplayEntry = { merges: string[] } & (
  { input: ProfileInput; thirdParty?: Record<string, Record<string, unknown>> } | { fold: string }
);

export interface SinceMerges {
  /** `complete`: every input since the merge is still in `replay` (false once the oldest were dropped). */
  open: Array<{ mergeId: string; at: string; complete: boolean }>;
  replay: ReplayEntry[];
}

/** A profile in memory, keys decoded. */
export interface ProfileModel {
  profileId: string;
  traits: Record<string, unknown>;
  /** Trait name → the occurredAt of the event that set it (last write wins by event time). */
  traitTimes: Record<string, string>;
  state: ProfileState;
  computed: Record<string, unknown>;
  segments: string[];
  version: number;
}

export function emptyState(): ProfileState {
  return {
    orders: [],
    ltv: 0,
    ordersCount: 0,
    affinity: {},
    viewedCategories: {},
    purchasedCategories: {},
    lastViewed: [],
    eventDays: {},
  };
}

export function emptyProfile(profileId: string): ProfileModel {
  return {
    profileId,
    traits: {},
    traitTimes: {},
    state: emptyState(),
    computed: {},
    segments: [],
    version: 0,
  };
}
