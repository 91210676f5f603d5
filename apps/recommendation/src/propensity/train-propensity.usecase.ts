import { Injectable, Logger } from '@nestjs/common';
import { random } from '../evaluation/planted-history.js';
import { engagementTier, FEATURE_NAMES, type FeatureName, type Features } from './features.js';
import { type ClassifierMetrics, classifierMetrics } from './metrics.js';
import { DEFAULT_FOREST, type ForestOptions, PropensityModel } from './propensity-model.js';
import { type ModelDocument, PropensityRepository, type SegmentMetrics } from './propensity.repository.js';
import { PropensityScorer } from './propensity-scorer.js';

export interface TrainOptions {
  /** Label: a purchase within this many days after the snapshot. */
  horizonDays?: number;
  /** Train as of this instant (snapshots older than the horizon have known labels). */
  now?: number;
  /** The share of the newest rows kept out for evaluation. */
  holdoutShare?: number;
  featureNames?: FeatureName[];
  /** Rows per class the forest is fit on (ml-cart's split search grows with the square of it). */
  samplePerClass?: number;
  forest?: Partial<ForestOptions>;
}

export type TrainResult = Omit<ModelDocument, 'forest'>;

const DAY_MS = 24 * 3600_000;

/**
 * Trains a purchase-propensity random forest on the feature snapshots with labels from later
 * purchases, evaluates it on a time-based holdout (the newest snapshots) next to the promoted model,
 * and promotes it only if it is not worse (AUC on that holdout).
 */
@Injectable()
export class TrainPropensityUseCase {
  private readonly logger = new Logger('propensity');
  private running: Promise<TrainResult> | undefined;

  constructor(
    private readonly repository: PropensityRepository,
    private readonly scorer: PropensityScorer,
  ) {}

  /** One training at a time: a request while one runs waits for it and trains after. */
  async execute(options: TrainOptions = {}): Promise<TrainResult> {
    const previous = this.running;
    const run = (async () => {
      await previous?.catch(() => undefined);
      return this.train(options);
    })();
    this.running = run;
    return run;
  }

  private async train(options: TrainOptions): Promise<TrainResult> {
    const started = Date.now();
    const horizonDays = options.horizonDays ?? 14;
    const horizon = horizonDays * DAY_MS;
    const now = options.now ?? Date.now();
    const featureNames = options.featureNames ?? [...FEATURE_NAMES];
    const rows = await this.repository.features
      .find(
        { at: { $lte: new Date(now - horizon) } },
        { projection: { profileId: 1, at: 1, features: 1, country: 1 } },
      )
      .toArray();
    const purchases = new Map<string, number[]>();
    for await (const purchase of this.repository.purchases.find(
      {},
      { projection: { profileId: 1, at: 1 } },
    )) {
      const times = purchases.get(purchase.profileId) ?? [];
      times.push(purchase.at.getTime());
      purchases.set(purchase.profileId, times);
    }
    const labelled = rows
      .map((row) => {
        const at = row.at.getTime();
        const bought = (purchases.get(row.profileId) ?? []).some((time) => time > at && time <= at + horizon);
        return { ...row, at, label: bought ? 1 : 0 };
      })
      .sort((a, b) => a.at - b.at || a._id.localeCompare(b._id));
    const cut = Math.floor(labelled.length * (1 - (options.holdoutShare ?? 0.25)));
    const train = labelled.slice(0, cut);
    const holdout = labelled.slice(cut);
    if (train.length < 20 || holdout.length < 10 || new Set(train.map((r) => r.label)).size < 2)
      throw new NotEnoughDataError(
        `need at least 20 training rows of both labels and 10 holdout rows with labels known (${horizonDays}-day horizon); have ${train.length} and ${holdout.length}`,
      );

    const sample = balancedSample(
      train,
      options.samplePerClass ?? 300,
      options.forest?.seed ?? DEFAULT_FOREST.seed,
    );
    const version = await this.repository.nextVersion();
    const model = PropensityModel.train(
      version,
      featureNames,
      sample.map((row) => row.features),
      sample.map((row) => row.label),
      { ...DEFAULT_FOREST, ...options.forest },
    );
    const labels = holdout.map((row) => row.label);
    const features: Features[] = holdout.map((row) => row.features);
    const scores = model.score(features);
    const metrics = classifierMetrics(scores, labels);

    const current = await this.scorer.promoted();
    let previous: ModelDocument['previous'];
    if (current)
      previous = { version: current.version, metrics: classifierMetrics(current.score(features), labels) };
    const promoted = !previous || metrics.auc >= previous.metrics.auc;
    const reason = !previous
      ? 'first model'
      : promoted
        ? `AUC ${metrics.auc} ≥ ${previous.metrics.auc} of ${previous.version} on the same holdout`
        : `AUC ${metrics.auc} < ${previous.metrics.auc} of ${previous.version} on the same holdout: kept ${previous.version}`;

    const document: ModelDocument = {
      _id: version,
      trainedAt: new Date(),
      horizonDays,
      featureNames,
      trainRows: train.length,
      sampleRows: sample.length,
      holdoutFrom: new Date(holdout[0]!.at),
      metrics,
      ...(previous ? { previous } : {}),
      promoted,
      reason,
      segments: segmentReport(holdout, scores, metrics),
      trainingMs: Date.now() - started,
      forest: model.toJSON(),
      schemaVersion: 1,
    };
    await this.repository.saveModel(document);
    if (promoted) this.scorer.forgetPromoted();
    this.logger.log(`${version}: ${reason}`);
    const { forest: _forest, ...result } = document;
    return result;
  }
}

export class NotEnoughDataError extends Error {}

function balancedSample<T extends { label: number }>(
  rows: readonly T[],
  perClass: number,
  seed: number,
): T[] {
  const next = random(seed);
  const pick = (label: number) => {
    const of = rows.filter((row) => row.label === label);
    for (let i = of.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [of[i], of[j]] = [of[j]!, of[i]!];
    }
    return of.slice(0, perClass);
  };
  return [...pick(0), ...pick(1)];
}

/** The model's metrics per country and per engagement tier; segments well below overall flagged. */
function segmentReport(
  holdout: readonly { features: Features; country?: string; label: number }[],
  scores: readonly number[],
  overall: ClassifierMetrics,
): SegmentMetrics[] {
  const groups = new Map<string, number[]>();
  holdout.forEach((row, index) => {
    for (const segment of [
      `country:${row.country ?? 'unknown'}`,
      `engagement:${engagementTier(row.features)}`,
    ]) {
      const members = groups.get(segment) ?? [];
      members.push(index);
      groups.set(segment, members);
    }
  });
  return [...groups]
    .map(([segment, members]) => {
      const metrics = classifierMetrics(
        members.map((i) => scores[i]!),
        members.map((i) => holdout[i]!.label),
      );
      const flagged =
        metrics.n >= 20 &&
        (metrics.auc < overall.auc - 0.1 || (metrics.positives > 0 && metrics.recall < overall.recall - 0.1));
      return { segment, ...metrics, flagged };
    })
    .sort((a, b) => a.segment.localeCompare(b.segment));
}
