import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { activeTraceIds } from './messaging-spans.js';

export interface LoggerOptions {
  service: string;
  level: string;
}

/** nestjs-pino settings: JSON lines with service, trace_id and span_id on every line. */
export function loggerParams(options: LoggerOptions): Params {
  return {
    pinoHttp: {
      level: options.level,
      base: { service: options.service },
      mixin: () => activeTraceIds() ?? {},
      messageKey: 'msg',
      autoLogging: { ignore: (request) => request.url?.startsWith('/health/') ?? false },
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
    // Nest 12 + Fastify: the default `{/*splat}` route never matches.
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
  };
}
