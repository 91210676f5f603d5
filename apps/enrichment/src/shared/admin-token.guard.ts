import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { EnrichmentEnv } from '../config.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Admin APIs: `Authorization: Bearer <MESH_ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(EnrichmentEnv) env: EnrichmentEnv) {
    this.expected = digest(env.MESH_ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), this.expected)) {
      throw new UnauthorizedException({
        error: 'unauthorized',
        message: 'this API needs Authorization: Bearer <MESH_ADMIN_TOKEN>',
      });
    }
    return true;
  }
}
