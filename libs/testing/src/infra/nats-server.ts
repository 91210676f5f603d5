import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startServer, type RunningServer, type ServerDefinition, type ServerOptions } from './server.js';

const nats: ServerDefinition = {
  tool: 'nats-server',
  readyTimeoutMs: 20_000,
  preferTmpfs: false,
  url: (port) => `nats://127.0.0.1:${port}`,
  args: (port, dataDir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dataDir],
  probe: assertJetStreamAnswers,
};

/** nats-server with JetStream; ready once a client connects and JetStream answers. */
export function startNats(options: ServerOptions = {}): Promise<RunningServer> {
  return startServer(nats, options);
}

async function assertJetStreamAnswers(url: string): Promise<void> {
  const connection = await connect({ servers: url, reconnect: false, timeout: 1_000 });
  try {
    const manager = await jetstreamManager(connection, { timeout: 1_000 });
    await manager.getAccountInfo();
  } finally {
    await connection.close();
  }
}

/** Deletes every stream (and so every consumer) so a test file starts from a clean server. */
export async function deleteAllStreams(url: string): Promise<void> {
  const connection = await connect({ servers: url, reconnect: false, timeout: 5_000 });
  try {
    const manager = await jetstreamManager(connection);
    for await (const stream of manager.streams.list()) {
      await manager.streams.delete(stream.config.name);
    }
  } finally {
    await connection.close();
  }
}
