import { type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';

const TOKEN = 'a-service-admin-token-of-32-chars';

const contextWith = (authorization?: unknown): ExecutionContext =>
  ({
    switchToHttp: () => ({ getRequest: () => ({ headers: { authorization } }) }),
  }) as unknown as ExecutionContext;

describe('AdminTokenGuard', () => {
  const guard = new AdminTokenGuard(TOKEN);

  it('lets the admin token through, whatever the case of the scheme', () => {
    expect(guard.canActivate(contextWith(`Bearer ${TOKEN}`))).toBe(true);
    expect(guard.canActivate(contextWith(`bearer ${TOKEN}`))).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', `Basic ${TOKEN}`],
    ['the bare token', TOKEN],
    ['a wrong token of the same length', `Bearer ${'x'.repeat(TOKEN.length)}`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 8)}`],
    ['the token with a suffix', `Bearer ${TOKEN}x`],
    ['a header that is not a string', ['Bearer', TOKEN]],
  ])('answers 401 for %s', (_case, header) => {
    expect(() => guard.canActivate(contextWith(header))).toThrow(UnauthorizedException);
  });
});
