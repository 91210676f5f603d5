import { type ProfileModel, type ReplayEntry, type SinceMerges } from '../profiles/profile-model.js';

/**
 * What a survivor was given after a merge is kept (in its own state, so it costs no extra write) for
 * as long as the merge may be split, so a split can re-count it: at most this many entries; past it
 * the oldest go and the merges they followed are marked incomplete.
 */
export const REPLAY_KEPT = 100;

/** Records an input (or a later merge) applied to a profile while merges into it are open. */
export function recordSinceMerges(model: ProfileModel, entry: Omit<ReplayEntry, 'merges'>): void {
  const since = model.state.sinceMerges;
  if (!since || since.open.length === 0) return;
  since.replay.push({ ...entry, merges: since.open.map((merge) => merge.mergeId) } as ReplayEntry);
  while (since.replay.length > REPLAY_KEPT) {
    const dropped = since.replay.shift()!;
    for (const merge of since.open) if (dropped.merges.includes(merge.mergeId)) merge.complete = false;
  }
}

/** Opens a merge on a survivor just folded: what it is given from now on is recorded for a split. */
export function openMerge(
  model: ProfileModel,
  before: SinceMerges | undefined,
  mergeId: string,
  at: string,
): void {
  const since: SinceMerges = structuredClone(before) ?? { open: [], replay: [] };
  model.state.sinceMerges = since;
  if (since.open.some((merge) => merge.mergeId === mergeId)) return;
  // A merge into a survivor with merges open is itself replayed when one of those is split.
  recordSinceMerges(model, { fold: mergeId });
  since.open.push({ mergeId, at, complete: true });
}

/** The record once `mergeId` is split: the other open merges and what followed them, or undefined. */
export function closeMerge(since: SinceMerges | undefined, mergeId: string): SinceMerges | undefined {
  if (!since) return undefined;
  const open = since.open.filter((merge) => merge.mergeId !== mergeId);
  if (open.length === 0) return undefined;
  const ids = new Set(open.map((merge) => merge.mergeId));
  const replay = since.replay
    .map((entry) => ({ ...entry, merges: entry.merges.filter((id) => ids.has(id)) }))
    .filter((entry) => entry.merges.length > 0);
  return { open, replay };
}
