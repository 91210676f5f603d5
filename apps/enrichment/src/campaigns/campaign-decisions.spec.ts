import { type Campaign } from './campaign.js';
import { assign, reentryDecision } from './campaign-decisions.js';

const campaign: Campaign = {
  campaignId: 'c1',
  name: 'C1',
  enabled: true,
  templateId: 't',
  recommendation: { strategy: 'none', limit: 0 },
  sendPolicy: { maxPerDay: 0, transactional: false },
};

describe('campaign decisions', () => {
  it('splits profiles by variant weight after the holdout, within 2 points over 20,000 profiles', () => {
    const split = {
      ...campaign,
      holdoutPercent: 10,
      variants: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 3 },
      ],
    };
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const assignment = assign(split, `profile-${i}`);
      const key = assignment.kind === 'holdout' ? 'holdout' : assignment.variant!.name;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    expect(counts.holdout! / 20_000).toBeCloseTo(0.1, 1);
    expect(Math.abs(counts.a! / 20_000 - 0.225)).toBeLessThan(0.02);
    expect(Math.abs(counts.b! / 20_000 - 0.675)).toBeLessThan(0.02);
    expect(assign(split, 'profile-7')).toEqual(assign(split, 'profile-7'));
  });

  it('lets a profile enter again by the re-entry rule', () => {
    const fired = { triggerKey: 'cart:1', state: 'fired' as const, enteredAt: 0 };
    expect(reentryDecision(campaign, undefined, 'cart:1', 0)).toBe('enter');
    expect(reentryDecision(campaign, fired, 'cart:1', 10)).toBe('skip');
    expect(reentryDecision(campaign, { ...fired, state: 'waiting' }, 'cart:1', 10)).toBe('again');
    expect(reentryDecision(campaign, fired, 'cart:2', 10)).toBe('enter');
    expect(reentryDecision({ ...campaign, reentry: { mode: 'once' } }, fired, 'cart:2', 10)).toBe('skip');
    const cooldown = { ...campaign, reentry: { mode: 'cooldown' as const, cooldownSeconds: 60 } };
    expect(reentryDecision(cooldown, fired, 'cart:2', 59_000)).toBe('skip');
    expect(reentryDecision(cooldown, fired, 'cart:2', 60_000)).toBe('enter');
  });
});
