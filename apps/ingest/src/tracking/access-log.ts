import { Logger, type LoggerService } from '@nestjs/common';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { type SourceRequest } from '../sources/write-key.guard.js';

/** The tracking API's routes (a Nest route pattern): the ones served without a request logger by default. */
export const TRACKING_ROUTES = 'v1/{*splat}';

/**
 * The log line of a tracking API call that was not accepted (INGEST_ACCESS_LOG=failures): what the
 * request logger would have printed for it — method, path, status, time taken, the caller's address
 * and, once authenticated, the source — at `error` for 5xx answers and `info` for refusals.
 */
export function logFailedTrackingCall(
  logger: LoggerService,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (reply.statusCode < 400 || !request.url.startsWith('/v1/')) return;
  const { source } = request as SourceRequest;
  // Flat fields: the logger's serializers for `req`/`res` expect Node's request and response objects.
  const line = {
    msg: reply.statusCode >= 500 ? 'request failed' : 'request refused',
    reqId: request.id,
    method: request.method,
    url: request.url.split('?')[0],
    statusCode: reply.statusCode,
    remoteAddress: request.ip,
    responseTime: Math.round(reply.elapsedTime),
    ...(source ? { source: source.id } : {}),
  };
  if (reply.statusCode >= 500) logger.error(line, 'TrackingApi');
  else logger.log(line, 'TrackingApi');
}

/** Logs the tracking API's failed calls, its successful ones going unlogged (see TRACKING_ROUTES). */
export function configureTrackingAccessLog(
  app: NestFastifyApplication,
  logger: LoggerService = new Logger(),
): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      logFailedTrackingCall(logger, request, reply);
      done();
    });
}
