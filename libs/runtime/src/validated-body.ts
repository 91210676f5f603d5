import { BadRequestException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { fieldErrors } from './create-service-app.js';

/** The 400 every service answers for input that fails its DTO: each field at fault, by its path. */
export function invalidRequest(fields: Record<string, string[]>, message = 'the request is not valid') {
  return new BadRequestException({ error: 'invalid_request', message, fields });
}

/**
 * What the global ValidationPipe does, for a body a route checks itself (raw-body webhooks, a quick
 * path's fallback): the body as `type`, or the same 400. `forbidUnknown: false` drops unknown fields
 * instead of refusing them (third parties add fields as they please).
 */
export function validatedBody<T extends object>(
  type: new () => T,
  body: unknown,
  { forbidUnknown = true }: { forbidUnknown?: boolean } = {},
): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidRequest({ body: ['the body must be a JSON object'] });
  const instance = plainToInstance(type, body);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: forbidUnknown });
  if (errors.length > 0) throw invalidRequest(fieldErrors(errors));
  return instance;
}
