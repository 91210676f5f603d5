// The NATS cluster of the manifests (k8s/base/nats: nats.conf + auth.conf), run as three nats-server
// processes on loopback. A stream of events goes through a durable consumer while the stream's leader
// is killed with SIGKILL: every acknowledged publish must be consumed, nothing may be stored twice,
// and no message may come back after its ack was confirmed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DeadLetters, messagingOptions, STREAMS, StreamProvisioner } from '@mesh/messaging';
import { freePort, requireTool, ServerProcess, waitFor } from '@mesh/testing';
import { natsAuthOptions } from '../deploy/tools/nats-auth.js';
import { type LoopbackNode, NATS_SERVICE_USERS, writeLoopbackConfigs } from './k8s/nats-loopback-config.js';

const EVENTS = 600;
const IN_FLIGHT = 16;
const KILL_AFTER_ACKED = 200;
const DURABLE = 'identity__ingest_any';

const passwords = Object.fromEntries(
  [...NATS_SERVICE_USERS, 'admin'].map((user) => [user, `pw-${user}-${Math.random().toString(36).slice(2)}`]),
) as Record<(typeof NATS_SERVICE_USERS)[number] | 'admin', string>;

describe('NATS cluster of the manifests: a node killed mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-nats-cluster-'));
  const servers: ServerProcess[] = [];
  const connections: NatsConnection[] = [];
  let nodes: LoopbackNode[] = [];
  let urls: string[] = [];

  const connectAs = async (user: keyof typeof passwords, servers = urls): Promise<NatsConnection> => {
    const connection = await connect({
      servers,
      user,
      pass: passwords[user],
      name: `test-${user}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    nodes = [];
    for (let index = 0; index < 3; index++) {
      nodes.push({
        index,
        clientPort: await freePort(),
        clusterPort: await freePort(),
        httpPort: await freePort(),
      });
    }
    urls = nodes.map((node) => `nats://127.0.0.1:${node.clientPort}`);
    const files = writeLoopbackConfigs(nodes, dir);
    const env = {
      ...process.env,
      ...Object.fromEntries(
        Object.entries(passwords).map(([user, password]) => [
          `NATS_PASSWORD_${user.toUpperCase()}`,
          password,
        ]),
      ),
    };
    const binary = requireTool('nats-server');
    files.forEach((file, index) =>
      servers.push(
        ServerProcess.spawn({
          name: `nats-${index}`,
          command: binary,
          args: ['-c', file],
          env: { ...env, POD_NAME: `nats-${index}` },
        }),
      ),
    );
    // Ready once JetStream answers through each node (the cluster has elected its meta leader).
    await Promise.all(
      servers.map((server, index) =>
        server.waitUntilReady(async () => {
          const connection = await connect({
            servers: urls[index],
            user: 'admin',
            pass: passwords.admin,
            reconnect: false,
            timeout: 1_000,
          });
          try {
            const info = await (await jetstreamManager(connection, { timeout: 1_000 })).getAccountInfo();
            if (info.api === undefined) throw new Error('JetStream not ready');
          } finally {
            await connection.close();
          }
        }, 45_000),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
    await Promise.all(servers.map((server) => server.terminate(2_000)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets each service publish only under its own subjects', async () => {
    const identity = await connectAs('identity');
    // The services' own stream provisioning works with their user (every service provisions all).
    const provisioner = new StreamProvisioner(
      messagingOptions({
        service: 'identity',
        servers: urls.join(','),
        streamReplicas: 3,
        streamMaxBytes: 64 * 1024 ** 2,
      }),
    );
    await provisioner.provision(await jetstreamManager(identity));

    const forged = jetstream(identity, { timeout: 1_500 }).publish('ingest.track', '{}', { msgID: 'forged' });
    await expect(forged).rejects.toThrow();
    // Destructive API calls are the admin's.
    await expect((await jetstreamManager(identity)).streams.purge('INGEST')).rejects.toThrow();

    const admin = await jetstreamManager(await connectAs('admin'));
    expect((await admin.streams.info('INGEST')).state.messages).toBe(0);
    expect((await admin.streams.info('INGEST')).config.num_replicas).toBe(3);

    // The dlq tool reaches the authenticated cluster as admin, with the options it builds from its flags.
    const tool = await connect({
      servers: urls,
      name: 'dlq-tool',
      ...natsAuthOptions({ user: 'admin', password: passwords.admin }, {}),
    });
    try {
      await expect(new DeadLetters(tool).list(undefined, 10)).resolves.toEqual([]);
    } finally {
      await tool.close();
    }
    await expect(
      connect({
        servers: urls,
        ...natsAuthOptions({ user: 'admin', password: 'wrong' }, {}),
        reconnect: false,
      }),
    ).rejects.toThrow();
  });

  it('loses no acknowledged event and processes none twice when the stream leader is killed', async () => {
    const ingest = jetstream(await connectAs('ingest'), { timeout: 2_000 });
    const identityConnection = await connectAs('identity');
    const identityManager = await jetstreamManager(identityConnection);
    const identity = jetstream(identityConnection);
    const admin = await jetstreamManager(await connectAs('admin'));
    const stream = STREAMS.find((candidate) => candidate.name === 'INGEST');
    expect(stream).toBeDefined();
    await identityManager.consumers.add('INGEST', {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: 'ingest.>',
      ack_wait: 3_000_000_000,
      max_ack_pending: 256,
    });

    const acked = new Set<string>();
    let duplicatesDroppedByStream = 0;
    let publishRetries = 0;
    let killed: string | undefined;

    const publishOne = async (id: string): Promise<void> => {
      for (;;) {
        try {
          const ack = await ingest.publish('ingest.track', JSON.stringify({ id }), { msgID: id });
          if (ack.duplicate) duplicatesDroppedByStream++;
          acked.add(id);
          return;
        } catch {
          // Timeout or no responders while the stream elects a new leader: retry with the SAME id,
          // as MessagePublisher does; the stream's duplicate window drops a copy that did land.
          publishRetries++;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    };

    const killLeader = async (): Promise<void> => {
      const leader = (await admin.streams.info('INGEST')).cluster?.leader;
      const index = nodes.findIndex((_, candidate) => `nats-${candidate}` === leader);
      const server = servers[index];
      if (!leader || !server) throw new Error(`no stream leader found (${String(leader)})`);
      killed = leader;
      await server.kill();
    };

    const publishing = (async () => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < EVENTS) {
          const id = `event-${String(next++).padStart(4, '0')}`;
          await publishOne(id);
          if (acked.size >= KILL_AFTER_ACKED && killed === undefined) {
            killed = 'pending';
            await killLeader();
          }
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    })();

    // The consumer: an effect per event id, applied once; ack after the effect, confirmed by the server.
    const effects = new Set<string>();
    const confirmed = new Set<string>();
    const deliveries = new Map<string, number>();
    const deliveredAfterConfirmedAck: string[] = [];
    let stop = false;
    const consuming = (async () => {
      while (!stop) {
        try {
          const consumer = await identity.consumers.get('INGEST', DURABLE);
          const batch = await consumer.fetch({ max_messages: 64, expires: 1_000 });
          for await (const message of batch) {
            const { id } = message.json<{ id: string }>();
            deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
            if (confirmed.has(id)) deliveredAfterConfirmedAck.push(id);
            effects.add(id);
            if (await message.ackAck({ timeout: 2_000 }).catch(() => false)) confirmed.add(id);
          }
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    })();

    await publishing;
    await waitFor(
      'every acknowledged event consumed',
      () => [...acked].every((id) => effects.has(id)),
      40_000,
      100,
    );
    stop = true;
    await consuming;

    expect(killed).toMatch(/^nats-\d$/);
    expect(acked.size).toBe(EVENTS);
    // Nothing lost: every publish the stream acknowledged reached the consumer ...
    expect([...acked].filter((id) => !effects.has(id))).toEqual([]);
    // ... nothing processed twice: no event came back after the server confirmed its ack ...
    expect(deliveredAfterConfirmedAck).toEqual([]);
    // ... and the stream stored each event once, publish retries notwithstanding.
    const survivors = await admin.streams.info('INGEST');
    expect(survivors.state.messages).toBe(EVENTS);
    expect(effects.size).toBe(EVENTS);
    expect(survivors.cluster?.leader).not.toBe(killed);
    const redelivered = [...deliveries.values()].filter((count) => count > 1).length;
    console.log(
      `killed ${String(killed)} after ${KILL_AFTER_ACKED} acks; ${EVENTS} events, ${publishRetries} publish retries, ` +
        `${duplicatesDroppedByStream} duplicates dropped by the stream, ${redelivered} redelivered before their ack was confirmed`,
    );
  }, 60_000);
});
