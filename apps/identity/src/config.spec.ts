import { loadEnv } from '@mesh/config';
import { emailRules, extractionOptions, IdentityEnv } from './config.js';

describe('identity configuration', () => {
  const load = (env: Record<string, string | undefined>) =>
    loadEnv('identity', IdentityEnv, { MESH_ADMIN_TOKEN: 'identity-test-admin-token', ...env });

  it('has no e-mail rules unless IDENTITY_EMAIL_RULES is set', () => {
    expect(emailRules(load({}))).toEqual([]);
    expect(emailRules(load({ IDENTITY_EMAIL_RULES: '' }))).toEqual([]);
    expect(extractionOptions(load({})).emailRules).toEqual([]);
  });

  it('reads the rules, each once', () => {
    expect(emailRules(load({ IDENTITY_EMAIL_RULES: 'plus_tags,gmail,gmail' }))).toEqual([
      'gmail',
      'plus_tags',
    ]);
    expect(extractionOptions(load({ IDENTITY_EMAIL_RULES: 'gmail' })).emailRules).toEqual(['gmail']);
  });

  it('refuses an unknown rule at startup, naming the variable', () => {
    for (const value of ['hotmail', 'gmail,', 'gmail, plus_tags', 'GMAIL']) {
      expect(() => load({ IDENTITY_EMAIL_RULES: value })).toThrow(/IDENTITY_EMAIL_RULES/);
    }
  });
});
