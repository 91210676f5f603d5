import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { activeTraceIds } from './messaging-spans.js';

export interface LoggerOptions {
  service: string;
  level: string;
  /**
   * Routes (Nest route patterns, e.g. `v1/{*splat}`) served without a request logger: no "request
   * completed" line per call and no request fields on the lines logged while serving them. For
   * high-volume APIs, where a child logger per call (its request fields serialized up front, even
   * when nothing is printed) is a large share of a call's cost; the service logs what it needs.
   */
  quietRoutes?: string[];
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
    ...(options.quietRoutes?.length
      ? { exclude: options.quietRoutes.map((path) => ({ path, method: RequestMethod.ALL })) }
      : {}),
  };
}
