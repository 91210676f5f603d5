import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { PortInUseError, SmtpSink, type ReceivedEmail } from '@mesh/testing';
import { MailboxStore } from './mailbox-store.js';
import { renderEmailBody, renderMailboxPage } from './mailbox-page.js';
import { isEntryPoint } from './shell.js';

export interface MailboxOptions {
  smtpPort: number;
  httpPort: number;
  /** Keep messages in this JSON file across restarts; in memory only when omitted. */
  storeFile?: string;
}

export interface Mailbox {
  readonly sink: SmtpSink;
  readonly smtpPort: number;
  readonly webUrl: string;
  stop(): Promise<void>;
}

/** The local mailbox: an SMTP sink, and a web page and JSON API over what it received. */
export async function startMailbox(options: MailboxOptions): Promise<Mailbox> {
  const store = options.storeFile ? new MailboxStore(options.storeFile) : undefined;
  const sink = new SmtpSink({ messages: store?.load() });
  sink.onEmail(() => store?.save(sink.messages()));
  const smtpPort = await sink.start({ port: options.smtpPort }).catch((error: unknown) => {
    throw portError(error, options.smtpPort, 'mailbox SMTP');
  });
  const http = createServer(mailboxRoutes({ sink, store, smtpPort }));
  const httpPort = await listen(http, options.httpPort).catch(async (error: unknown) => {
    await sink.stop();
    throw portError(error, options.httpPort, 'mailbox web');
  });
  return {
    sink,
    smtpPort,
    webUrl: `http://localhost:${httpPort}`,
    async stop() {
      http.closeAllConnections();
      await Promise.all([new Promise((resolve) => http.close(resolve)), sink.stop()]);
      await store?.flush();
    },
  };
}

interface MailboxContext {
  sink: SmtpSink;
  store: MailboxStore | undefined;
  smtpPort: number;
}

function mailboxRoutes({ sink, store, smtpPort }: MailboxContext) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const { pathname } = new URL(request.url ?? '/', 'http://mailbox');
    const newestFirst = (): ReceivedEmail[] => sink.messages().reverse();
    const byId = (id: string): ReceivedEmail | undefined => sink.messages().find((email) => email.id === id);
    const route = `${request.method ?? 'GET'} ${pathname}`;

    if (route === 'GET /')
      return send(response, 200, 'text/html', renderMailboxPage(newestFirst(), smtpPort));
    if (route === 'GET /api/messages') return sendJson(response, 200, newestFirst());
    if (route === 'DELETE /api/messages') {
      sink.clear();
      store?.save([]);
      return send(response, 204, 'text/plain', '');
    }
    const apiMatch = /^GET \/api\/messages\/([^/]+)$/.exec(route);
    if (apiMatch) {
      const email = byId(decodeURIComponent(apiMatch[1]!));
      return email ? sendJson(response, 200, email) : sendJson(response, 404, { error: 'no such message' });
    }
    const htmlMatch = /^GET \/messages\/([^/]+)\.html$/.exec(route);
    if (htmlMatch) {
      const email = byId(decodeURIComponent(htmlMatch[1]!));
      if (!email) return send(response, 404, 'text/plain', 'No such message.');
      // Email HTML is untrusted content: no scripts, no same-origin access to the API.
      response.setHeader('Content-Security-Policy', 'sandbox');
      return send(response, 200, 'text/html', renderEmailBody(email));
    }
    send(response, 404, 'text/plain', 'Not found. Try / or /api/messages.');
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json', JSON.stringify(body, null, 2));
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
  response.end(body);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function portError(error: unknown, port: number, owner: string): unknown {
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  return inUse ? new PortInUseError(port, owner) : error;
}

async function main(): Promise<void> {
  const mailbox = await startMailbox({ smtpPort: 2525, httpPort: 8025 });
  console.log(`Mailbox: SMTP on port ${mailbox.smtpPort}, web page ${mailbox.webUrl}. Ctrl-C stops it.`);
  const stop = async (): Promise<void> => {
    await mailbox.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (isEntryPoint(import.meta.url)) await main();
