export interface ClassifierMetrics {
  n: number;
  positives: number;
  precision: number;
  recall: number;
  auc: number;
}

/** Precision and recall at `threshold`, and ROC AUC (ties counted half). */
export function classifierMetrics(
  scores: readonly number[],
  labels: readonly number[],
  threshold = 0.5,
): ClassifierMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i]! >= threshold;
    if (predicted && labels[i] === 1) tp++;
    else if (predicted) fp++;
    else if (labels[i] === 1) fn++;
  }
  const positives = labels.filter((label) => label === 1).length;
  return {
    n: scores.length,
    positives,
    precision: round(tp + fp === 0 ? 0 : tp / (tp + fp)),
    recall: round(tp + fn === 0 ? 0 : tp / (tp + fn)),
    auc: round(auc(scores, labels)),
  };
}

function auc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((score, i) => ({ score, label: labels[i]! })).sort((a, b) => a.score - b.score);
  const positives = order.filter((row) => row.label === 1).length;
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  // Mann-Whitney U over average ranks.
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.score === order[i]!.score) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (order[k]!.label === 1) rankSum += rank;
    i = j + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
