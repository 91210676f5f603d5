import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { type ReceivedEmail } from '@mesh/testing';
import { startMailbox, type Mailbox } from './mailbox.js';

describe('local mailbox', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailbox-spec-'));
  const storeFile = join(dataDir, 'messages.json');
  let mailbox: Mailbox | undefined;

  afterEach(() => mailbox?.stop());
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function sendEmail(subject: string, html?: string): Promise<void> {
    const mailer = createTransport({ host: '127.0.0.1', port: mailbox!.smtpPort, ignoreTLS: true });
    await mailer.sendMail({
      from: 'shop@example.com',
      to: 'ada@example.com',
      subject,
      text: `${subject} text`,
      html,
    });
    mailer.close();
  }

  const get = (path: string): Promise<Response> => fetch(`${mailbox!.webUrl}${path}`);
  const listMessages = async (): Promise<ReceivedEmail[]> =>
    (await (await get('/api/messages')).json()) as ReceivedEmail[];

  it('lists received emails newest first, as JSON and as a page', async () => {
    mailbox = await startMailbox({ smtpPort: 0, httpPort: 0 });
    await sendEmail('First <offer>');
    await sendEmail('Second');

    const messages = await listMessages();
    expect(messages.map((email) => email.subject)).toEqual(['Second', 'First <offer>']);
    const one = await get(`/api/messages/${messages[1]!.id}`);
    expect(await one.json()).toMatchObject({ subject: 'First <offer>', to: ['ada@example.com'] });

    const page = await (await get('/')).text();
    expect(page).toContain('First &lt;offer&gt;');
    expect(page).toContain(`/messages/${messages[0]!.id}.html`);
    expect(page.indexOf('Second')).toBeLessThan(page.indexOf('First'));
  });

  it('serves an email HTML body, sandboxed, or its text when it has none', async () => {
    mailbox = await startMailbox({ smtpPort: 0, httpPort: 0 });
    await sendEmail('With HTML', '<h1>Hello Ada</h1>');
    await sendEmail('Text only');
    const [textOnly, withHtml] = await listMessages();

    const html = await get(`/messages/${withHtml!.id}.html`);
    expect(html.headers.get('content-security-policy')).toBe('sandbox');
    expect(await html.text()).toBe('<h1>Hello Ada</h1>');
    expect(await (await get(`/messages/${textOnly!.id}.html`)).text()).toContain('<pre>Text only text');
  });

  it('answers 404 for an unknown message and path', async () => {
    mailbox = await startMailbox({ smtpPort: 0, httpPort: 0 });

    expect((await get('/api/messages/nope')).status).toBe(404);
    expect((await get('/messages/nope.html')).status).toBe(404);
    expect((await get('/elsewhere')).status).toBe(404);
  });

  it('deletes every message', async () => {
    mailbox = await startMailbox({ smtpPort: 0, httpPort: 0 });
    await sendEmail('Old');

    const response = await fetch(`${mailbox.webUrl}/api/messages`, { method: 'DELETE' });

    expect(response.status).toBe(204);
    expect(await listMessages()).toEqual([]);
  });

  it('keeps messages across a restart when given a store file', async () => {
    mailbox = await startMailbox({ smtpPort: 0, httpPort: 0, storeFile });
    await sendEmail('Kept');
    await mailbox.stop();

    mailbox = await startMailbox({ smtpPort: 0, httpPort: 0, storeFile });

    expect((await listMessages()).map((email) => email.subject)).toEqual(['Kept']);
  });
});
