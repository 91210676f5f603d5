import fc from 'fast-check';
import {
  ALL_SUBJECTS,
  ContractViolationError,
  deriveEnvelope,
  type Envelope,
  originEnvelope,
  parseEnvelope,
  PAYLOAD_CLASSES,
  type PayloadOf,
  SUBJECTS,
  subjectMatches,
  type TrackPayload,
} from './index.js';

const track = (data: Partial<TrackPayload> = {}): Envelope<TrackPayload> =>
  originEnvelope({
    id: 'evt-1',
    type: 'track',
    source: 'shop',
    occurredAt: '2026-11-28T10:00:00.000Z',
    data: { messageId: 'm-1', userId: 'u-1', event: 'Product Added', properties: { price: 10 }, ...data },
  });

describe('subject → payload map', () => {
  it('has a payload class for every subject of the architecture', () => {
    for (const subject of ALL_SUBJECTS) expect(PAYLOAD_CLASSES[subject]).toBeDefined();
    expect(ALL_SUBJECTS).toContain('dlq.delivery');
    expect(ALL_SUBJECTS).toContain('privacy.erase.done.identity');
  });

  it('does not compile the wrong payload for a subject', () => {
    const publish = <S extends keyof typeof PAYLOAD_CLASSES>(
      _subject: S,
      _envelope: Envelope<PayloadOf<S>>,
    ) => undefined;
    publish(SUBJECTS.ingest.track, track());
    // @ts-expect-error a track payload is not a rendered email
    publish(SUBJECTS.renderer.rendered, track());
    // @ts-expect-error no such subject
    publish('ingest.unknown', track());
    expect(true).toBe(true);
  });
});

/** The error `parse` throws, or undefined when it accepts. */
function violationOf(parse: () => unknown): unknown {
  try {
    parse();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('parseEnvelope', () => {
  it('accepts a valid envelope and returns its payload as the contract class', () => {
    const parsed = parseEnvelope(SUBJECTS.ingest.track, JSON.parse(JSON.stringify(track())));
    expect(parsed.data).toBeInstanceOf(PAYLOAD_CLASSES['ingest.track']);
    expect(parsed.data.event).toBe('Product Added');
  });

  it('names every field at fault, in the envelope and in its data', () => {
    const broken = {
      ...track(),
      occurredAt: 'yesterday',
      data: { ...track().data, event: '', properties: 'x' },
    };
    const error = violationOf(() => parseEnvelope(SUBJECTS.ingest.track, broken));
    expect(error).toBeInstanceOf(ContractViolationError);
    const paths = (error as ContractViolationError).violations.map((violation) => violation.path);
    expect(paths).toEqual(expect.arrayContaining(['occurredAt', 'data.event', 'data.properties']));
  });

  it('tolerates fields it does not know, so an older consumer accepts a newer producer', () => {
    const newer = { ...track(), schemaHint: 2, data: { ...track().data, futureField: true } };
    expect(parseEnvelope(SUBJECTS.ingest.track, newer).data.event).toBe('Product Added');
  });

  it('never throws anything but a contract violation, whatever arrives', () => {
    const envelopeLike = fc.record({
      ...Object.fromEntries(Object.keys(track()).map((key) => [key, fc.jsonValue()])),
    });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), envelopeLike), (value) => {
        const outcome = violationOf(() => parseEnvelope(SUBJECTS.ingest.track, value));
        if (outcome !== undefined) expect(outcome).toBeInstanceOf(ContractViolationError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('envelopes', () => {
  it('derives the same id from the same input and stage, keeping the correlation', () => {
    const input = track();
    const first = deriveEnvelope(input, { stage: 'identity.resolved.track', type: 'track', data: {} });
    const again = deriveEnvelope(input, { stage: 'identity.resolved.track', type: 'track', data: {} });
    const other = deriveEnvelope(input, { stage: 'enrichment.triggered:c-1', type: 'x', data: {} });
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
    expect(first.correlationId).toBe(input.id);
    expect(first.causationId).toBe(input.id);
  });
});

describe('subjectMatches', () => {
  it('follows NATS wildcards', () => {
    expect(subjectMatches('identity.resolved.*', 'identity.resolved.track')).toBe(true);
    expect(subjectMatches('identity.resolved.*', 'identity.merged')).toBe(false);
    expect(subjectMatches('delivery.>', 'delivery.sent')).toBe(true);
    expect(subjectMatches('delivery.>', 'delivery')).toBe(false);
  });
});
