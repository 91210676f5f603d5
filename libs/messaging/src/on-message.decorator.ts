import { UseFilters } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { type Envelope, type PayloadOf, type Subject } from '@mesh/contracts';
import { type JetStreamContext } from './jetstream-context.js';
import { RethrowRpcErrorsFilter } from './rethrow-rpc-errors.filter.js';

/** The subjects a filter covers: exact, `prefix.*` or `prefix.>` (last-token wildcards). */
export type SubjectsMatching<F extends string> = F extends `${infer Prefix}.>`
  ? Extract<Subject, `${Prefix}.${string}`>
  : F extends `${infer Prefix}.*`
    ? Extract<Subject, `${Prefix}.${string}`>
    : Extract<Subject, F>;

/** The envelope a handler of filter F receives: a union over the subjects it covers. */
export type EnvelopeOf<F extends string> = {
  [S in SubjectsMatching<F>]: Envelope<PayloadOf<S>>;
}[SubjectsMatching<F>];

export interface HandlerOptions<F extends string> {
  /**
   * Messages with the same key run one after another, in stream order (e.g. by profile id), while
   * different keys run concurrently. Without it every message may run concurrently.
   */
  orderBy?: (envelope: EnvelopeOf<F>) => string | undefined;
}

export const ORDER_BY = 'meshOrderBy';

/**
 * `@EventPattern` for JetStream subjects with the envelope typed by the subject: the handler gets a
 * validated `EnvelopeOf<filter>` and the JetStream context, and its promise is the settlement.
 */
export function OnMessage<F extends string>(
  filter: F & (SubjectsMatching<F> extends never ? never : F),
  options: HandlerOptions<F> = {},
) {
  return <M extends (envelope: EnvelopeOf<F>, context: JetStreamContext) => Promise<void>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    const extras = options.orderBy ? { [ORDER_BY]: options.orderBy } : {};
    (EventPattern(filter, extras) as MethodDecorator)(target, key, descriptor);
    // Settlement needs the handler's own error (its class, its `permanent` mark), not Nest's summary of it.
    UseFilters(new RethrowRpcErrorsFilter())(target, key, descriptor);
  };
}
