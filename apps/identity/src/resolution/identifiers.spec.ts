import fc from 'fast-check';
import {
  DEFAULT_EXTRACTION,
  EMAIL_RULES,
  type EmailRule,
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

const casing = (text: string, flips: boolean[]) =>
  [...text].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch)).join('');

describe('normalization properties', () => {
  const email = fc.emailAddress();

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

describe('provider e-mail rules (IDENTITY_EMAIL_RULES)', () => {
  const ALL: EmailRule[] = [...EMAIL_RULES];

  it('off by default: only trimmed and lower-cased', () => {
    for (const address of ['J.Doe+news@GoogleMail.com', 'a.b+x@gmail.com', 'Ann+Shop@Example.com']) {
      expect(normalizeEmail(address)).toEqual({ value: address.toLowerCase() });
      expect(normalizeEmail(address, [])).toEqual({ value: address.toLowerCase() });
    }
  });

  it('gmail: dots and a +tag dropped on gmail.com and googlemail.com, googlemail.com mapped to gmail.com', () => {
    const gmail: EmailRule[] = ['gmail'];
    expect(normalizeEmail(' J.Doe+news@GoogleMail.com ', gmail)).toEqual({ value: 'jdoe@gmail.com' });
    expect(normalizeEmail('a.b+x@gmail.com', gmail)).toEqual({ value: 'ab@gmail.com' });
    expect(normalizeEmail('a.b+x+y@gmail.com', gmail)).toEqual({ value: 'ab@gmail.com' });
    // Other domains keep their dots and tags under this rule alone.
    expect(normalizeEmail('a.b+x@example.com', gmail)).toEqual({ value: 'a.b+x@example.com' });
    expect(normalizeEmail('a.b@gmail.com.evil.io', gmail)).toEqual({ value: 'a.b@gmail.com.evil.io' });
    // A local part that would be empty is not an address.
    expect(normalizeEmail('...@gmail.com', gmail)).toEqual({ reason: 'INVALID_EMAIL' });
    expect(normalizeEmail('+news@gmail.com', gmail)).toEqual({ value: '+news@gmail.com' });
  });

  it('plus_tags: a +tag dropped on every domain, dots kept', () => {
    const tags: EmailRule[] = ['plus_tags'];
    expect(normalizeEmail('Ann.Lee+Shop@Example.com', tags)).toEqual({ value: 'ann.lee@example.com' });
    expect(normalizeEmail('a.b+x@gmail.com', tags)).toEqual({ value: 'a.b@gmail.com' });
    expect(normalizeEmail('+only@example.com', tags)).toEqual({ value: '+only@example.com' });
    expect(normalizeEmail('a.b+x@gmail.com', ALL)).toEqual({ value: 'ab@gmail.com' });
  });

  it('extraction applies the configured rules', () => {
    const event = { ...base, traits: { email: 'J.Doe+news@GoogleMail.com' } };
    expect(extractIdentifiers(event).identifiers).toEqual([
      { type: 'email', value: 'j.doe+news@googlemail.com' },
    ]);
    expect(extractIdentifiers(event, { ...DEFAULT_EXTRACTION, emailRules: ['gmail'] }).identifiers).toEqual([
      { type: 'email', value: 'jdoe@gmail.com' },
    ]);
  });

  it('idempotent under every set of rules; the canonical form does not depend on dots, tags or case', () => {
    const local = fc.stringMatching(/^[a-z0-9]{1,12}$/);
    const rules = fc.subarray(ALL);
    fc.assert(
      fc.property(
        fc.emailAddress(),
        rules,
        fc.array(fc.boolean(), { minLength: 1 }),
        (address, chosen, flips) => {
          const normalized = normalizeEmail(address, chosen);
          if (!('value' in normalized)) return;
          expect(normalizeEmail(normalized.value, chosen)).toEqual(normalized);
          expect(normalizeEmail(casing(address, flips), chosen)).toEqual(normalized);
          if (chosen.length === 0) expect(normalized).toEqual(normalizeEmail(address));
        },
      ),
    );
    fc.assert(
      fc.property(
        local,
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.option(local, { nil: undefined }),
        fc.constantFrom('gmail.com', 'googlemail.com', 'GMail.com'),
        (name, dots, tag, domain) => {
          const dotted = [...name].map((ch, i) => (i > 0 && dots.includes(i) ? `.${ch}` : ch)).join('');
          const variant = `${dotted}${tag === undefined ? '' : `+${tag}`}@${domain}`;
          expect(normalizeEmail(variant, ['gmail'])).toEqual({ value: `${name}@gmail.com` });
        },
      ),
    );
  });
});
