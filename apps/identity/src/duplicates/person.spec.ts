import { blockingKeys, personOf, similarity } from './person.js';

const katherine = personOf(
  {
    first_name: 'Katherine',
    last_name: 'Müller',
    birthday: '1987-03-14',
    address: { street: 'Hauptstraße 12', postal_code: '10115', city: 'Berlin' },
  },
  [
    { type: 'email', value: 'k.mueller@example.com' },
    { type: 'phone', value: '+4930123456789' },
  ],
);

describe('fuzzy person matching', () => {
  it('normalizes names, streets, postcodes and e-mail local parts', () => {
    expect(katherine).toEqual({
      firstName: 'katherine',
      lastName: 'muller',
      birthday: '1987-03-14',
      street: 'haupt st 12',
      postalCode: '10115',
      city: 'berlin',
      phones: ['+4930123456789'],
      emailNames: ['kmueller'],
    });
    expect(personOf({ name: 'Jane Q. Public' }, [])).toMatchObject({
      firstName: 'jane q',
      lastName: 'public',
    });
  });

  it('scores a typo in the name with the same address high enough to merge', () => {
    const typo = personOf(
      {
        first_name: 'Katharine',
        last_name: 'Mueller',
        birthday: '1987-03-14',
        address: { street: 'Hauptstr. 12', postal_code: '10115' },
      },
      [],
    );
    expect(similarity(katherine, typo).score).toBeGreaterThanOrEqual(0.9);
  });

  it('scores the same name with a different birthday and address low', () => {
    const namesake = personOf(
      {
        first_name: 'Katherine',
        last_name: 'Müller',
        birthday: '1991-11-02',
        address: { street: 'Lindenallee 3', postal_code: '80331' },
      },
      [],
    );
    expect(similarity(katherine, namesake).score).toBeLessThan(0.7);
  });

  it('scores a phone differing by its prefix and a nickname-free initial in between', () => {
    const shortened = personOf({ first_name: 'K', last_name: 'Muller' }, [
      { type: 'phone', value: '+49301234567891' },
    ]);
    const { score, attributes } = similarity(katherine, shortened);
    expect(attributes.name).toBeGreaterThan(0.9);
    expect(score).toBeGreaterThan(0.7);
    expect(score).toBeLessThan(0.95);
  });

  it('gives nothing without a last name to compare', () => {
    expect(similarity(katherine, personOf({ first_name: 'Katherine' }, [])).score).toBe(0);
  });

  it('derives blocking keys that near-duplicates share and strangers do not', () => {
    const typo = personOf({ last_name: 'Muller', address: { postal_code: '10115' } }, []);
    const stranger = personOf({ last_name: 'Schmidt', address: { postal_code: '10115' } }, []);
    expect(blockingKeys(katherine)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name-postcode:/),
        'phone7:3456789',
        expect.stringMatching(/^email-sound:/),
      ]),
    );
    expect(blockingKeys(typo).filter((key) => blockingKeys(katherine).includes(key))).toHaveLength(1);
    expect(blockingKeys(stranger).filter((key) => blockingKeys(katherine).includes(key))).toHaveLength(0);
  });
});
