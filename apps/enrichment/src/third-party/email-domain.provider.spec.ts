import { EmailDomainProvider } from './email-domain.provider.js';

describe('email domain provider', () => {
  const provider = new EmailDomainProvider();

  it('asks about the domain of a usable email only', () => {
    expect(provider.keyOf({ email: 'Ann@Example.COM ' })).toBe('example.com');
    expect(provider.keyOf({ email: 'no-at-sign' })).toBeUndefined();
    expect(provider.keyOf({ email: 'a@localhost' })).toBeUndefined();
    expect(provider.keyOf({ phone: '+33' })).toBeUndefined();
  });

  it('tells free-mail, disposable and company domains apart', async () => {
    expect(await provider.lookup('gmail.com')).toEqual({ domain: 'gmail.com', kind: 'free' });
    expect(await provider.lookup('yopmail.com')).toEqual({ domain: 'yopmail.com', kind: 'disposable' });
    expect(await provider.lookup('acme.io')).toEqual({
      domain: 'acme.io',
      kind: 'company',
      company_domain: 'acme.io',
    });
  });
});
