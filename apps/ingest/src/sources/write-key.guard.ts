import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { type Source } from './source.js';
import { SourcesRepository } from './sources.repository.js';

export type SourceRequest = FastifyRequest & { source?: Source };

/** Segment's scheme: the write key is the HTTP Basic username (password empty), or `writeKey` in the body. */
export function writeKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    const username = decoded.split(':')[0];
    if (username) return username;
  }
  const body = request.body as { writeKey?: unknown } | undefined;
  return typeof body?.writeKey === 'string' && body.writeKey !== '' ? body.writeKey : undefined;
}

@Injectable()
export class WriteKeyGuard implements CanActivate {
  constructor(private readonly sources: SourcesRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<SourceRequest>();
    const writeKey = writeKeyOf(request);
    if (!writeKey) {
      throw new UnauthorizedException({
        error: 'unauthorized',
        message: 'send the write key as the HTTP Basic username (or as writeKey in the body)',
      });
    }
    const source = await this.sources.findByWriteKey(writeKey);
    if (!source?.enabled)
      throw new UnauthorizedException({ error: 'unauthorized', message: 'unknown or disabled write key' });
    request.source = source;
    return true;
  }
}
