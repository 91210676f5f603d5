import { type Envelope, parseEnvelope, type ResolvedTrackPayload, SUBJECTS } from '@mesh/contracts';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';

/**
 * Every `identity.resolved.track` still in the IDENTITY stream, in stream order, to `visit`
 * (awaited one by one). Answers how many were visited and how many failed the contract.
 */
export async function readTrackHistory(
  nc: NatsConnection,
  visit: (envelope: Envelope<ResolvedTrackPayload>) => Promise<void>,
): Promise<{ read: number; invalid: number }> {
  const consumer = await jetstream(nc).consumers.get('IDENTITY', {
    filter_subjects: [SUBJECTS.identity.resolved.track],
    deliver_policy: DeliverPolicy.All,
  });
  let read = 0;
  let invalid = 0;
  if ((await consumer.info(true)).num_pending === 0) return { read, invalid };
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 2_000 });
    let received = 0;
    let last = false;
    for await (const message of batch) {
      received++;
      let envelope: Envelope<ResolvedTrackPayload> | undefined;
      try {
        envelope = parseEnvelope(SUBJECTS.identity.resolved.track, message.json());
      } catch {
        invalid++;
      }
      if (envelope) {
        await visit(envelope);
        read++;
      }
      if (message.info.pending === 0) {
        last = true;
        break;
      }
    }
    if (last || received === 0) return { read, invalid };
  }
}
