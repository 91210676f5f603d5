import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';

/** The service's admin token (MESH_ADMIN_TOKEN), provided by ServiceCoreModule to the whole app. */
export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Admin APIs: `Authorization: Bearer <MESH_ADMIN_TOKEN>`. Both sides are hashed before a constant-time
 * comparison, so neither the token's content nor its length leaks through timing.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(ADMIN_TOKEN) token: string) {
    this.expected = digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>()
      .headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/i.exec(header) : null;
    if (match && timingSafeEqual(digest(match[1]!), this.expected)) return true;
    throw new UnauthorizedException({
      error: 'unauthorized',
      message: 'send the admin token as Authorization: Bearer <MESH_ADMIN_TOKEN>',
    });
  }
}
