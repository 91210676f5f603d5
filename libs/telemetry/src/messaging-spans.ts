import {
  context,
  type Context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const tracer = () => trace.getTracer('@mesh/messaging');

/** What the W3C propagator needs of a message's headers (NATS `MsgHdrs` fits). */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
}

export interface MessageSpanAttributes {
  destination: string;
  messageId?: string;
  consumerGroup?: string;
  bodySize?: number;
  deliveryCount?: number;
}

function semconv(operation: 'send' | 'process', attrs: MessageSpanAttributes) {
  return {
    'messaging.system': 'nats',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation === 'send' ? 'publish' : 'process',
    'messaging.destination.name': attrs.destination,
    ...(attrs.messageId ? { 'messaging.message.id': attrs.messageId } : {}),
    ...(attrs.consumerGroup ? { 'messaging.consumer.group.name': attrs.consumerGroup } : {}),
    ...(attrs.bodySize !== undefined ? { 'messaging.message.body.size': attrs.bodySize } : {}),
    ...(attrs.deliveryCount !== undefined ? { 'messaging.nats.delivery_count': attrs.deliveryCount } : {}),
  };
}

async function inSpan<T>(span: Span, ctx: Context, work: (span: Span) => Promise<T>): Promise<T> {
  try {
    const result = await context.with(trace.setSpan(ctx, span), () => work(span));
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** A PRODUCER span around a publish; its context is written into the message headers. */
export function withPublishSpan<T>(
  headers: HeaderCarrier,
  attrs: MessageSpanAttributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = context.active();
  const span = tracer().startSpan(
    `send ${attrs.destination}`,
    { kind: SpanKind.PRODUCER, attributes: semconv('send', attrs) },
    parent,
  );
  const spanContext = trace.setSpan(parent, span);
  propagation.inject(spanContext, headers, {
    set: (carrier, key, value) => carrier.set(key, value),
  });
  return inSpan(span, parent, work);
}

/** A CONSUMER span around a handler, child of the context found in the message headers. */
export function withProcessSpan<T>(
  headers: HeaderCarrier | undefined,
  attrs: MessageSpanAttributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = headers
    ? propagation.extract(context.active(), headers, {
        get: (carrier, key) => carrier.get(key) || undefined,
        keys: () => ['traceparent', 'tracestate'],
      })
    : context.active();
  const span = tracer().startSpan(
    `process ${attrs.destination}`,
    { kind: SpanKind.CONSUMER, attributes: semconv('process', attrs) },
    parent,
  );
  return inSpan(span, parent, work);
}

/** An INTERNAL or CLIENT span around any awaited work (e.g. an SMTP send). */
export function withSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  work: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  const parent = context.active();
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  return inSpan(span, parent, work);
}

/** The active trace id, for logs and error ids. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
