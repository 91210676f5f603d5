import fc from 'fast-check';
import {
  DEFAULT_EXTRACTION,
  extractIdentifiers,
  identifierKey,
  normalizeEmail,
  normalizeId,
  normalizePhone,
} from './identifiers.js';

const base = { messageId: 'm-1' };

describe('identifier extraction', () => {
  it('reads userId, anonymousId, the device, external ids and configured traits, highest priority first', () => {
    const { identifiers, dropped } = extractIdentifiers(
      {
        ...base,
        userId: ' u-1 ',
        anonymousId: 'a-1',
        traits: { email: ' Ada@Example.COM ', phone: '+49 151 23456789', loyalty: 'L-9' },
        context: {
          device: { id: 'dev-1' },
          externalIds: [
            { id: 'C-7', type: 'crm_id' },
            { id: 12345, type: 'shopify_customer_id' },
          ],
        },
      },
      { ...DEFAULT_EXTRACTION, customTraits: ['loyalty'] },
    );
    expect(dropped).toEqual([]);
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'crm_id', value: 'C-7' },
      { type: 'email', value: 'ada@example.com' },
      { type: 'phone', value: '+4915123456789' },
      { type: 'device_id', value: 'dev-1' },
      { type: 'anonymous_id', value: 'a-1' },
      { type: 'custom', name: 'shopify_customer_id', value: '12345' },
      { type: 'custom', name: 'loyalty', value: 'L-9' },
    ]);
  });

  it('drops invalid values with the source and a reason', () => {
    const { identifiers, dropped } = extractIdentifiers({
      ...base,
      anonymousId: 'a-1',
      traits: { email: 'not-an-email', phone: '12' },
      context: { traits: { email: 42 }, externalIds: [{ id: 'x', type: 'bad.name' }, 'junk'] },
    });
    expect(identifiers).toEqual([{ type: 'anonymous_id', value: 'a-1' }]);
    expect(dropped).toEqual([
      { type: 'custom', source: 'context.externalIds[0]', reason: 'INVALID_NAME' },
      { type: 'custom', source: 'context.externalIds[1]', reason: 'INVALID_NAME' },
      { type: 'email', source: 'traits.email', reason: 'INVALID_EMAIL' },
      { type: 'phone', source: 'traits.phone', reason: 'INVALID_PHONE' },
      { type: 'email', source: 'context.traits.email', reason: 'NOT_A_STRING' },
    ]);
  });

  it('reads national phone numbers only with a configured region', () => {
    expect(normalizePhone('0151 23456789')).toEqual({ reason: 'INVALID_PHONE' });
    expect(normalizePhone('0151 23456789', 'DE')).toEqual({ value: '+4915123456789' });
  });

  it('counts one identifier once however often it appears', () => {
    const { identifiers } = extractIdentifiers({
      ...base,
      userId: 'u-1',
      traits: { email: 'a@b.io' },
      context: { traits: { email: 'A@B.IO' }, externalIds: [{ id: 'u-1', type: 'userId' }] },
    });
    expect(identifiers.map(identifierKey)).toEqual(['user_id:u-1', 'email:a@b.io']);
  });
});

describe('normalization properties', () => {
  const email = fc.emailAddress();
  const casing = (text: string, flips: boolean[]) =>
    [...text].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch)).join('');

  it('e-mail: idempotent, and case and surrounding space do not matter', () => {
    fc.assert(
      fc.property(
        email,
        fc.array(fc.boolean(), { minLength: 1 }),
        fc.string({ unit: fc.constantFrom(' ', '\t') }),
        (address, flips, pad) => {
          const normalized = normalizeEmail(address);
          if (!('value' in normalized)) return; // a generated address our stricter rule refuses
          expect(normalizeEmail(normalized.value)).toEqual(normalized);
          expect(normalizeEmail(pad + casing(address, flips) + pad)).toEqual(normalized);
        },
      ),
    );
  });

  it('phone: every format of one number gives the same E.164 value, which normalizes to itself', () => {
    const germanMobile = fc.stringMatching(/^1[5-7][0-9]{8,9}$/);
    fc.assert(
      fc.property(germanMobile, (national) => {
        const e164 = normalizePhone(`+49${national}`);
        if (!('value' in e164)) return; // not every generated number is allocated
        expect(e164.value).toMatch(/^\+[1-9][0-9]{6,14}$/);
        expect(normalizePhone(e164.value)).toEqual(e164);
        expect(normalizePhone(`0${national}`, 'DE')).toEqual(e164);
        expect(normalizePhone(`+49 (0) ${national.slice(0, 3)} ${national.slice(3)}`)).toEqual(e164);
        expect(normalizePhone(`0049-${national}`, 'DE')).toEqual(e164);
      }),
    );
  });

  it('ids: trimmed and idempotent; blank or oversized ones dropped', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (text) => {
        const normalized = normalizeId(text);
        if ('value' in normalized) {
          expect(normalized.value).toBe(text.trim());
          expect(normalizeId(normalized.value)).toEqual(normalized);
        } else {
          expect(text.trim() === '' || text.trim().length > 512).toBe(true);
        }
      }),
    );
  });

  it('never throws and keeps only well-formed identifiers, whatever the event holds', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (traits, context, userId) => {
        const event = { ...base, userId, traits, context } as unknown as Parameters<
          typeof extractIdentifiers
        >[0];
        const { identifiers } = extractIdentifiers(event, { ...DEFAULT_EXTRACTION, customTraits: ['x'] });
        for (const identifier of identifiers) {
          expect(identifier.value.length).toBeGreaterThan(0);
          expect(identifier.value.length).toBeLessThanOrEqual(512);
          expect(identifier.value).toBe(identifier.value.trim());
          if (identifier.name !== undefined) expect(identifier.name).toMatch(/^[A-Za-z0-9_-]+$/);
        }
        expect(new Set(identifiers.map(identifierKey)).size).toBe(identifiers.length);
      }),
    );
  });
});
