import { connect, createServer } from 'node:net';
import getPort from 'get-port';

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return getPort({ host: '127.0.0.1' });
}

/** Whether something already listens on 127.0.0.1:`port`. */
export function isPortInUse(port: number): Promise<boolean> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolvePromise(true);
      else reject(error);
    });
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      probe.close(() => resolvePromise(false)),
    );
  });
}

/** Resolves once a TCP connection to 127.0.0.1:`port` opens (and closes it); rejects if refused. */
export function assertAcceptsConnections(port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise();
    });
    socket.once('error', reject);
  });
}

/** Throws a clear error when `port`, wanted by `owner`, is already taken. */
export async function assertPortFree(port: number, owner: string): Promise<void> {
  if (await isPortInUse(port)) {
    throw new PortInUseError(port, owner);
  }
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly owner: string,
  ) {
    super(`Port ${port} (${owner}) is already in use by another process.`);
    this.name = 'PortInUseError';
  }
}
