import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { type FastifyRequest } from 'fastify';
import { RecommendationEnv } from '../config.js';

/** `Authorization: Bearer <MESH_ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly token: Buffer;

  constructor(env: RecommendationEnv) {
    this.token = Buffer.from(env.MESH_ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
    if (given.length !== this.token.length || !timingSafeEqual(given, this.token))
      throw new UnauthorizedException({
        error: 'unauthorized',
        message: 'send Authorization: Bearer <MESH_ADMIN_TOKEN>',
      });
    return true;
  }
}
