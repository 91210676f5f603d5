import { emptyProfile } from '../profiles/profile-model.js';
import { closeMerge, openMerge, recordSinceMerges, REPLAY_KEPT } from './since-merges.js';

const input = (n: number) => ({
  input: { kind: 'traits' as const, at: `2026-01-01T00:00:${n}Z`, traits: { n } },
});

describe('what a survivor is given after a merge, for a split', () => {
  it('records nothing while no merge is open', () => {
    const model = emptyProfile('s');
    recordSinceMerges(model, input(1));
    expect(model.state.sinceMerges).toBeUndefined();
  });

  it('records inputs and later merges with the merges they follow; a split closes only its own', () => {
    const model = emptyProfile('s');
    openMerge(model, undefined, 'm1', '2026-01-01T00:00:00Z');
    recordSinceMerges(model, input(1));
    openMerge(model, model.state.sinceMerges, 'm2', '2026-01-02T00:00:00Z');
    recordSinceMerges(model, input(2));
    expect(model.state.sinceMerges!.replay.map((entry) => entry.merges)).toEqual([
      ['m1'],
      ['m1'],
      ['m1', 'm2'],
    ]);
    expect(model.state.sinceMerges!.replay[1]).toMatchObject({ fold: 'm2' });
    const afterSplit = closeMerge(model.state.sinceMerges, 'm1');
    expect(afterSplit).toEqual({
      open: [{ mergeId: 'm2', at: '2026-01-02T00:00:00Z', complete: true }],
      replay: [{ ...input(2), merges: ['m2'] }],
    });
    expect(closeMerge(afterSplit, 'm2')).toBeUndefined();
  });

  it('keeps at most REPLAY_KEPT entries and marks the merge incomplete past it', () => {
    const model = emptyProfile('s');
    openMerge(model, undefined, 'm1', '2026-01-01T00:00:00Z');
    for (let n = 0; n < REPLAY_KEPT + 5; n++) recordSinceMerges(model, input(n));
    expect(model.state.sinceMerges!.replay).toHaveLength(REPLAY_KEPT);
    expect(model.state.sinceMerges!.open[0]!.complete).toBe(false);
  });
});
