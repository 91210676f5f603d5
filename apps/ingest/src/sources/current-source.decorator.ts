import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type Source } from './source.js';
import { type SourceRequest } from './write-key.guard.js';

/** The source the WriteKeyGuard authenticated. */
export const CurrentSource = createParamDecorator((_data: unknown, context: ExecutionContext): Source => {
  const source = context.switchToHttp().getRequest<SourceRequest>().source;
  if (!source) throw new Error('CurrentSource used on a route without WriteKeyGuard');
  return source;
});
