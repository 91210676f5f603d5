import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { IngestEnv } from '../config.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Admin APIs: `Authorization: Bearer <MESH_ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(IngestEnv) env: IngestEnv) {
    this.expected = digest(env.MESH_ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (token === '' || !timingSafeEqual(digest(token), this.expected)) {
      throw new UnauthorizedException({
        error: 'unauthorized',
        message: 'send the admin token as Authorization: Bearer <MESH_ADMIN_TOKEN>',
      });
    }
    return true;
  }
}
