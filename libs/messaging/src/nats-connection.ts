import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { jetstream, type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection as Connection } from '@nats-io/transport-node';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging-options.js';
import { StreamProvisioner } from './stream-provisioner.js';

/**
 * The service's one NATS connection, opened and provisioned before any provider's init that
 * publishes, and closed last, after the consumers have drained.
 */
@Injectable()
export class NatsConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(NatsConnection.name);
  private connection?: Connection;
  private client?: JetStreamClient;
  private manager?: JetStreamManager;

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly provisioner: StreamProvisioner,
  ) {}

  async onModuleInit(): Promise<void> {
    this.connection = await connect({
      servers: this.options.servers.split(','),
      name: this.options.service,
      ...(this.options.user === undefined ? {} : { user: this.options.user, pass: this.options.pass }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Otherwise every request (JetStream API calls, pulls) builds two Error objects up front for
      // their stack traces. Errors still carry the stack they are thrown with.
      noAsyncTraces: true,
    });
    this.manager = await jetstreamManager(this.connection, { timeout: this.options.publishTimeoutMs });
    this.client = jetstream(this.connection, { timeout: this.options.publishTimeoutMs });
    await this.provisioner.provision(this.manager);
    this.logger.log(`connected to ${this.connection.getServer()} as ${this.options.service}`);
  }

  get nc(): Connection {
    if (!this.connection) throw new Error('NATS is not connected yet (MessagingModule has not initialised)');
    return this.connection;
  }

  get js(): JetStreamClient {
    if (!this.client) throw new Error('NATS is not connected yet (MessagingModule has not initialised)');
    return this.client;
  }

  get jsm(): JetStreamManager {
    if (!this.manager) throw new Error('NATS is not connected yet (MessagingModule has not initialised)');
    return this.manager;
  }

  isConnected(): boolean {
    return this.connection !== undefined && !this.connection.isClosed();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.connection && !this.connection.isClosed()) await this.connection.drain();
  }
}
