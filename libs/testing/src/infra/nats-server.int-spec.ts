import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats } from './nats-server.js';
import { isProcessRunning } from './process-running.js';
import { type RunningServer } from './server.js';

describe('startNats', () => {
  let nats: RunningServer | undefined;
  let connection: NatsConnection | undefined;

  afterEach(async () => {
    await connection?.close();
    await nats?.stop();
  });

  it('serves JetStream, then stop() ends the process and removes its data dir', async () => {
    nats = await startNats();
    connection = await connect({ servers: nats.url });
    const manager = await jetstreamManager(connection);
    await manager.streams.add({ name: 'ORDERS', subjects: ['orders.*'] });

    const ack = await jetstream(connection).publish('orders.created', 'order-1');
    expect(ack).toMatchObject({ stream: 'ORDERS', seq: 1 });

    await connection.close();
    const { pid, dataDir } = nats;
    await nats.stop();
    expect(isProcessRunning(pid!)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('keeps stream data across a crash: kill() then restart() on the same port', async () => {
    nats = await startNats();
    const firstPid = nats.pid!;
    connection = await connect({ servers: nats.url });
    await (await jetstreamManager(connection)).streams.add({ name: 'CARTS', subjects: ['carts.*'] });
    await jetstream(connection).publish('carts.updated', 'cart-1');
    await connection.close();

    await nats.kill();
    expect(isProcessRunning(firstPid)).toBe(false);
    await nats.restart();

    connection = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(connection)).streams.info('CARTS');
    expect(info.state.messages).toBe(1);
    expect(nats.pid).not.toBe(firstPid);
  });
});
