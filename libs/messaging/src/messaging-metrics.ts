import { Injectable } from '@nestjs/common';
import { type Attributes, metrics, type ObservableResult } from '@opentelemetry/api';

/** Consumer metrics (ARCHITECTURE.md, "Observability"), labelled by service and consumer. */
@Injectable()
export class MessagingMetrics {
  private readonly meter = metrics.getMeter('@mesh/messaging');
  private readonly processed = this.meter.createCounter('messaging.consumer.processed', {
    description: 'Messages whose handler succeeded and that were acked',
  });
  private readonly failed = this.meter.createCounter('messaging.consumer.failed', {
    description: 'Handler failures (each is nak-ed for retry or dead-lettered)',
  });
  private readonly deadLettered = this.meter.createCounter('messaging.consumer.dead_lettered', {
    description: 'Messages sent to dlq.<service> and terminated',
  });
  private readonly duration = this.meter.createHistogram('messaging.process.duration', {
    description: 'Handler duration',
    unit: 's',
  });
  private readonly pendingByConsumer = new Map<string, { attributes: Attributes; pending: number }>();
  private deadLetterDepth?: { attributes: Attributes; read: () => Promise<number> };

  constructor() {
    this.meter
      .createObservableGauge('messaging.consumer.pending', {
        description: 'Messages in the stream not yet delivered to the consumer (lag)',
      })
      .addCallback((result: ObservableResult) => {
        for (const { attributes, pending } of this.pendingByConsumer.values())
          result.observe(pending, attributes);
      });
    this.meter
      .createObservableGauge('messaging.dlq.depth', {
        description: 'Dead letters of this service held in the DLQ stream (dlq.<service>)',
      })
      .addCallback(async (result: ObservableResult) => {
        if (!this.deadLetterDepth) return;
        // A failed read (NATS away) skips this collection rather than report a false 0.
        const depth = await this.deadLetterDepth.read().catch(() => undefined);
        if (depth !== undefined) result.observe(depth, this.deadLetterDepth.attributes);
      });
  }

  /** Where the DLQ depth gauge reads its figure, once the service consumes. */
  observeDeadLetterDepth(attributes: Attributes, read: () => Promise<number>): void {
    this.deadLetterDepth = { attributes, read };
  }

  recordProcessed(attributes: Attributes, seconds: number): void {
    this.processed.add(1, attributes);
    this.duration.record(seconds, { ...attributes, outcome: 'ok' });
  }

  recordFailed(attributes: Attributes, seconds: number, permanent: boolean): void {
    this.failed.add(1, { ...attributes, permanent });
    this.duration.record(seconds, { ...attributes, outcome: 'error' });
  }

  recordDeadLettered(attributes: Attributes): void {
    this.deadLettered.add(1, attributes);
  }

  recordPending(consumer: string, attributes: Attributes, pending: number): void {
    this.pendingByConsumer.set(consumer, { attributes, pending });
  }
}
