/** How computed attributes are scored; from the environment (config.ts), defaults below. */
export interface ProfileSettings {
  /** The window of `frequency`, `monetary` and their scores. */
  rfmWindowDays: number;
  /** Every window scored in `rfm_windows` (`"30d"`, …), `rfmWindowDays` among them. */
  rfmWindows: readonly number[];
  /** Recency score 5 at or under the first figure (days), 4 under the second, … 1 beyond the last. */
  recencyDays: readonly [number, number, number, number];
  /** Frequency score 2 from the first figure (orders in the window), … 5 from the last. */
  frequency: readonly [number, number, number, number];
  /** Monetary score 2 from the first figure (revenue in the window), … 5 from the last. */
  monetary: readonly [number, number, number, number];
  engagementHalfLifeDays: number;
  affinityHalfLifeDays: number;
}

export const DEFAULT_PROFILE_SETTINGS: ProfileSettings = {
  rfmWindowDays: 365,
  rfmWindows: [30, 90, 365],
  recencyDays: [30, 90, 180, 365],
  frequency: [2, 3, 5, 10],
  monetary: [100, 250, 500, 1000],
  engagementHalfLifeDays: 14,
  affinityHalfLifeDays: 30,
};

export const PROFILE_SETTINGS = Symbol('PROFILE_SETTINGS');
