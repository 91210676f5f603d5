import { Inject, Injectable, Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { type Envelope } from '@mesh/contracts';
import { type JsMsg } from '@nats-io/jetstream';
import { lastValueFrom } from 'rxjs';
import { ConsumerLoop, type OrderingKey } from './consumer-loop.js';
import { DeadLetters } from './dead-letters.js';
import { JetStreamContext } from './jetstream-context.js';
import { MessagePublisher } from './message-publisher.js';
import { MessagingMetrics } from './messaging-metrics.js';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging-options.js';
import { NatsConnection } from './nats-connection.js';
import { ORDER_BY } from './on-message.decorator.js';

export const JETSTREAM_TRANSPORT = Symbol('JETSTREAM_TRANSPORT');

/**
 * Nest transport over JetStream: each `@EventPattern('<subject filter>')` handler gets its own
 * durable pull consumer, named after the service and the filter.
 */
@Injectable()
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  override readonly transportId = JETSTREAM_TRANSPORT;
  private readonly loops: ConsumerLoop[] = [];
  private readonly log = new Logger(JetStreamTransport.name);

  constructor(
    private readonly connection: NatsConnection,
    private readonly publisher: MessagePublisher,
    private readonly metrics: MessagingMetrics,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [pattern, handler] of this.messageHandlers) {
        const orderBy = (handler.extras as Record<string, unknown> | undefined)?.[ORDER_BY] as
          OrderingKey | undefined;
        const loop = new ConsumerLoop(
          pattern,
          (envelope, message) => this.invoke(handler, envelope, message),
          {
            connection: this.connection,
            publisher: this.publisher,
            metrics: this.metrics,
            options: this.options,
            logger: this.log,
          },
          orderBy,
        );
        await loop.start();
        this.loops.push(loop);
        this.log.log(`consuming ${pattern} from ${loop.stream} as ${loop.durable}`);
      }
      const deadLetters = new DeadLetters(this.connection.nc);
      const { service } = this.options;
      this.metrics.observeDeadLetterDepth({ service, 'messaging.destination.name': `dlq.${service}` }, () =>
        deadLetters.depth(service),
      );
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops pulling on every consumer and waits for in-flight handlers to settle. */
  async close(): Promise<void> {
    const loops = this.loops.splice(0);
    await Promise.all(loops.map((loop) => loop.stop()));
  }

  on(): never {
    throw new Error('JetStreamTransport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.connection.nc as T;
  }

  private async invoke(handler: MessageHandler, envelope: Envelope, message: JsMsg): Promise<void> {
    const context = new JetStreamContext([message.subject, message]);
    const result: unknown = await handler(envelope, context);
    try {
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    } catch (error) {
      // A plain @EventPattern handler's error arrives as Nest's `{ status: 'error' }` summary.
      if (error instanceof Error) throw error;
      throw new Error(
        `handler failed: ${JSON.stringify(error)} (use @OnMessage to keep the original error)`,
        {
          cause: error,
        },
      );
    }
  }
}
