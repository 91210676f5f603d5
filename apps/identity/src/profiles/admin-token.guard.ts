import { timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';

export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

/** Profiles carry personal data: only callers with `Authorization: Bearer <MESH_ADMIN_TOKEN>` may read them. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(ADMIN_TOKEN) token: string) {
    this.expected = Buffer.from(`Bearer ${token}`);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>()
      .headers.authorization;
    const given = Buffer.from(typeof header === 'string' ? header : '');
    if (given.length === this.expected.length && timingSafeEqual(given, this.expected)) return true;
    throw new UnauthorizedException({ error: 'unauthorized', message: 'an admin bearer token is required' });
  }
}
