import fc from 'fast-check';
import { readBatchBody, readTrack } from './quick-track.js';

const value = fc.oneof(
  fc.constant(''),
  fc.constant('\uFE0F'),
  fc.string({ maxLength: 4 }),
  fc.string({ minLength: 254, maxLength: 258 }),
  fc.constantFrom('2026-11-28T10:00:00.000Z', '2026-02-30T10:00:00Z', '2026-11-28 10:00', '2026-W48-1'),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), fc.integer(), fc.constant(null)), {
    maxKeys: 3,
  }),
);
const keys = [
  'messageId',
  'userId',
  'anonymousId',
  'context',
  'integrations',
  'timestamp',
  'sentAt',
  'originalTimestamp',
  'type',
  'writeKey',
  '_metadata',
  'channel',
  'version',
  'event',
  'properties',
  'unknownField',
] as const;
const body = fc.record(
  Object.fromEntries(keys.map((key) => [key, value])) as Record<(typeof keys)[number], typeof value>,
  {
    requiredKeys: [],
  },
);
// Bodies close to valid, so both outcomes are common.
const nearlyValid = fc.record(
  {
    event: fc.oneof({ arbitrary: fc.constant('Product Viewed'), weight: 6 }, value),
    userId: fc.oneof({ arbitrary: fc.constant('user-1'), weight: 6 }, value),
    properties: fc.oneof({ arbitrary: fc.constant({ price: 10, nested: { a: [1, 2] } }), weight: 6 }, value),
    context: fc.oneof({ arbitrary: fc.constant({ traits: { email: 'a@example.com' } }), weight: 6 }, value),
    timestamp: fc.oneof({ arbitrary: fc.constant('2026-11-28T10:00:00.000Z'), weight: 6 }, value),
    anonymousId: value,
  },
  { requiredKeys: ['event'] },
);

const outcome = (quick: boolean, input: unknown) => {
  try {
    return { ok: { ...readTrack(input, quick) }, type: readTrack(input, quick).constructor };
  } catch (error) {
    return { error: (error as { getResponse(): unknown }).getResponse() };
  }
};

describe('/v1/track: the quick check agrees with class-validator', () => {
  it('for arbitrary and nearly valid bodies', () => {
    const seen = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(fc.oneof({ arbitrary: nearlyValid, weight: 4 }, body, fc.anything()), (input) => {
        const quick = outcome(true, input);
        expect(quick).toEqual(outcome(false, input));
        seen['ok' in quick ? 'valid' : 'invalid']++;
      }),
      { numRuns: 1000 },
    );
    expect(seen.valid).toBeGreaterThan(50);
    expect(seen.invalid).toBeGreaterThan(50);
  });
});

const batchValue = fc.oneof(
  value,
  fc.constant(undefined),
  fc.array(fc.oneof(nearlyValid, value), { minLength: 1, maxLength: 3 }),
  fc.constant([]),
  fc.constant(Array.from({ length: 2_501 }, () => ({ type: 'track', event: 'E', userId: 'u' }))),
);
/** Mostly left out (an unknown or broken field makes the whole body invalid). */
const rarely = (arbitrary: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, arbitrary);
const nearlyValidBatch = fc
  .record({
    batch: fc.oneof(
      { arbitrary: fc.array(nearlyValid, { minLength: 1, maxLength: 3 }), weight: 6 },
      batchValue,
    ),
    sentAt: rarely(fc.oneof(fc.constant('2026-11-28T10:00:00.000Z'), value)),
    writeKey: rarely(fc.oneof(fc.constant('wk_1'), value)),
    context: rarely(fc.oneof(fc.constant({ library: { name: 'analytics-node' } }), value)),
    integrations: rarely(value),
    _metadata: rarely(value),
    unknownField: rarely(value),
  })
  .map((body) => Object.fromEntries(Object.entries(body).filter(([, field]) => field !== undefined)));

const batchOutcome = (quick: boolean, input: unknown) => {
  try {
    const dto = readBatchBody(input, quick);
    return { ok: { ...dto }, type: dto.constructor };
  } catch (error) {
    return { error: (error as { getResponse(): unknown }).getResponse() };
  }
};

describe('/v1/batch: the quick check of the body agrees with class-validator', () => {
  it('for arbitrary and nearly valid bodies', () => {
    const seen = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(fc.oneof({ arbitrary: nearlyValidBatch, weight: 4 }, fc.anything()), (input) => {
        const quick = batchOutcome(true, input);
        expect(quick).toEqual(batchOutcome(false, input));
        seen['ok' in quick ? 'valid' : 'invalid']++;
      }),
      { numRuns: 1000 },
    );
    expect(seen.valid).toBeGreaterThan(50);
    expect(seen.invalid).toBeGreaterThan(50);
  });
});
