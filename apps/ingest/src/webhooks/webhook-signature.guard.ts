import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { SecretBox } from '../sources/secret-box.js';
import { SourcesRepository } from '../sources/sources.repository.js';
import { type SourceRequest } from '../sources/write-key.guard.js';
import { type RawBodyRequest } from './raw-body.wiring.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from './webhook-signature.js';

const header = (request: SourceRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** `POST /webhooks/{sourceId}`: the source must exist, be enabled, and have signed the exact body. */
@Injectable()
export class WebhookSignatureGuard implements CanActivate {
  constructor(
    private readonly sources: SourcesRepository,
    private readonly secrets: SecretBox,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<SourceRequest & RawBodyRequest>();
    const sourceId = (request.params as { sourceId?: string }).sourceId ?? '';
    const source = await this.sources.get(sourceId);
    const sealed = source?.enabled ? await this.sources.webhookSecrets(sourceId) : undefined;
    const secrets = [sealed?.current, sealed?.previous]
      .filter((secret): secret is string => secret !== undefined)
      .map((secret) => this.secrets.open(secret));
    const failure =
      secrets.length === 0
        ? 'unknown_source'
        : verifyWebhook(
            secrets,
            header(request, TIMESTAMP_HEADER),
            header(request, SIGNATURE_HEADER),
            request.rawBody ?? Buffer.alloc(0),
          );
    if (failure !== undefined || !source) {
      throw new UnauthorizedException({
        error: 'unauthorized',
        reason: failure,
        message: `send ${TIMESTAMP_HEADER} (Unix seconds, within 300 s) and ${SIGNATURE_HEADER}: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>"> with the source's webhook secret`,
      });
    }
    request.source = source;
    return true;
  }
}
