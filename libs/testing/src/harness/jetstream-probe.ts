import { type Envelope } from '@mesh/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/**
 * Publishes the same envelope again under another `Nats-Msg-Id`, so the stream keeps it and the
 * consumer receives the same message a second time: what a redelivery looks like to a handler.
 */
export async function publishCopy(
  natsUrl: string,
  subject: string,
  envelope: Envelope,
  copy = 'copy-1',
): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    await jetstream(nc).publish(subject, JSON.stringify(envelope), { msgID: `${envelope.id}#${copy}` });
  } finally {
    await nc.close();
  }
}

/** How many messages a stream holds per subject. */
export async function subjectCounts(natsUrl: string, stream: string): Promise<Record<string, number>> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream, { subjects_filter: '>' });
    return { ...(info.state.subjects ?? {}) };
  } finally {
    await nc.close();
  }
}

/** The consumer has nothing pending nor unacknowledged: everything it received was settled. */
export async function consumerIsIdle(natsUrl: string, stream: string, durable: string): Promise<boolean> {
  const nc = await connect({ servers: natsUrl });
  try {
    const info = await (await jetstreamManager(nc)).consumers.info(stream, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  } finally {
    await nc.close();
  }
}
