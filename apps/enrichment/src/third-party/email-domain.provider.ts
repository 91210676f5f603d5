import { type EnrichmentProvider } from './enrichment-provider.js';

/** Mailbox providers anyone can sign up with: their domain says nothing about a company. */
const FREE_MAIL = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'yahoo.fr',
  'yahoo.co.uk',
  'hotmail.com',
  'hotmail.fr',
  'outlook.com',
  'live.com',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aol.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  'proton.me',
  'protonmail.com',
  'mail.ru',
  'yandex.ru',
  'qq.com',
  '163.com',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'libero.it',
  'zoho.com',
  'fastmail.com',
  'hey.com',
]);
/** Throwaway inboxes. */
const DISPOSABLE = new Set([
  'mailinator.com',
  'guerrillamail.com',
  '10minutemail.com',
  'tempmail.com',
  'yopmail.com',
]);

/** Built in, offline: classifies the email's domain as free-mail, disposable or a company's. */
export class EmailDomainProvider implements EnrichmentProvider {
  readonly name = 'email_domain';
  readonly perSecond = 10_000;
  readonly ttlSeconds = 30 * 86_400;

  keyOf(traits: Record<string, unknown>): string | undefined {
    const email = traits.email;
    if (typeof email !== 'string') return undefined;
    const domain = email
      .slice(email.lastIndexOf('@') + 1)
      .trim()
      .toLowerCase();
    return email.includes('@') && domain.includes('.') ? domain : undefined;
  }

  lookup(domain: string): Promise<Record<string, unknown>> {
    const kind = FREE_MAIL.has(domain) ? 'free' : DISPOSABLE.has(domain) ? 'disposable' : 'company';
    return Promise.resolve({ domain, kind, ...(kind === 'company' ? { company_domain: domain } : {}) });
  }
}
