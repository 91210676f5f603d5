import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { JetStreamTransport } from './jetstream-transport.js';
import { MessagePublisher } from './message-publisher.js';
import { MessagingMetrics } from './messaging-metrics.js';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging-options.js';
import { NatsConnection } from './nats-connection.js';
import { NatsHealthIndicator } from './nats-health.indicator.js';
import { StreamProvisioner } from './stream-provisioner.js';

@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        StreamProvisioner,
        NatsConnection,
        MessagePublisher,
        MessagingMetrics,
        JetStreamTransport,
        NatsHealthIndicator,
      ],
      exports: [MESSAGING_OPTIONS, NatsConnection, MessagePublisher, JetStreamTransport, NatsHealthIndicator],
    };
  }
}
