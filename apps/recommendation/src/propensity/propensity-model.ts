import { RandomForestClassifier } from 'ml-random-forest';
import { type FeatureName, type Features, vectorOf } from './features.js';

export interface ForestOptions {
  seed: number;
  trees: number;
  maxDepth: number;
}

export const DEFAULT_FOREST: ForestOptions = { seed: 7, trees: 15, maxDepth: 5 };

/** A trained forest and the features it reads. */
export class PropensityModel {
  constructor(
    readonly version: string,
    readonly featureNames: readonly FeatureName[],
    private readonly forest: RandomForestClassifier,
  ) {}

  static train(
    version: string,
    featureNames: readonly FeatureName[],
    rows: readonly Features[],
    labels: readonly number[],
    options: ForestOptions = DEFAULT_FOREST,
  ): PropensityModel {
    const forest = new RandomForestClassifier({
      seed: options.seed,
      nEstimators: options.trees,
      maxFeatures: featureNames.length === 1 ? 1 : 0.7,
      replacement: false,
      useSampleBagging: true,
      noOOB: true,
      treeOptions: { maxDepth: options.maxDepth, minNumSamples: 5 },
    });
    forest.train(
      rows.map((row) => vectorOf(row, featureNames)),
      [...labels],
    );
    return new PropensityModel(version, featureNames, forest);
  }

  static load(version: string, featureNames: readonly FeatureName[], json: string): PropensityModel {
    return new PropensityModel(
      version,
      featureNames,
      RandomForestClassifier.load(JSON.parse(json) as Parameters<typeof RandomForestClassifier.load>[0]),
    );
  }

  /** Purchase propensity in [0, 1]: the share of trees that vote "buys". */
  score(rows: readonly Features[]): number[] {
    if (rows.length === 0) return [];
    const probabilities = this.forest.predictProbability(
      rows.map((row) => vectorOf(row, this.featureNames)),
      1,
    );
    return probabilities.map((p) => Math.min(1, Math.max(0, Number(p) || 0)));
  }

  toJSON(): string {
    return JSON.stringify(this.forest.toJSON());
  }
}
