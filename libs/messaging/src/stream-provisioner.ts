import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { MESSAGING_OPTIONS, type MessagingOptions } from './messaging-options.js';
import { STREAMS, type StreamDefinition } from './streams.js';

const DUPLICATE_WINDOW_MS = 2 * 60_000;
const MAX_MESSAGE_BYTES = 1024 * 1024;
const DAY_MS = 86_400_000;

/** Creates or updates every stream of the table; safe to run from every service at once. */
@Injectable()
export class StreamProvisioner {
  private readonly logger = new Logger(StreamProvisioner.name);

  constructor(@Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions) {}

  config(stream: StreamDefinition): Partial<StreamConfig> & Pick<StreamConfig, 'name'> {
    return {
      name: stream.name,
      subjects: [...stream.subjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(stream.maxAgeDays * DAY_MS),
      max_bytes: Math.min(stream.maxBytes, this.options.streamMaxBytes),
      max_msg_size: MAX_MESSAGE_BYTES,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      num_replicas: this.options.streamReplicas,
    };
  }

  async provision(jsm: JetStreamManager): Promise<void> {
    await Promise.all(STREAMS.map((stream) => this.provisionOne(jsm, stream)));
  }

  private async provisionOne(jsm: JetStreamManager, stream: StreamDefinition): Promise<void> {
    const config = this.config(stream);
    try {
      await jsm.streams.add(config);
    } catch (error) {
      // Already there with another config (an older version, or a race with another service): update it.
      if (!(error instanceof JetStreamApiError) || error.code !== 10058) throw error;
      await jsm.streams.update(stream.name, config);
      this.logger.log(`stream ${stream.name} updated`);
    }
  }
}
