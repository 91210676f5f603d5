export const FUZZY_SETTINGS = Symbol('FUZZY_SETTINGS');

export interface FuzzySettings {
  /** Scores at or above this merge at once (reason `fuzzy`). */
  autoMergeScore: number;
  /** Scores at or above this (and below auto-merge) wait for review; lower ones are dropped. */
  reviewScore: number;
  /** A block with more members than this (a very common name) is not compared. */
  maxBlockSize: number;
}
