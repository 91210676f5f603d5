import { createTransport, type Transporter } from 'nodemailer';
import { SmtpSink } from './smtp-sink.js';

describe('SmtpSink', () => {
  let sink: SmtpSink;
  let mailer: Transporter;

  beforeEach(async () => {
    sink = new SmtpSink();
    const port = await sink.start();
    mailer = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  });

  afterEach(async () => {
    mailer.close();
    await sink.stop();
  });

  it('receives an email sent with nodemailer, parsed', async () => {
    const arrival = sink.waitForEmail((email) => email.to.includes('ada@example.com'));

    await mailer.sendMail({
      from: '"Shop" <news@shop.example>',
      to: ['"Ada Lovelace" <ada@example.com>', 'charles@example.com'],
      subject: 'Your cart misses you – 10 % off',
      text: 'Laptop 13" is waiting',
      html: '<p>Laptop 13&quot; is waiting</p>',
      headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      messageId: '<cart-1@shop.example>',
    });
    const email = await arrival;

    expect(email).toMatchObject({
      envelope: { from: 'news@shop.example', to: ['ada@example.com', 'charles@example.com'] },
      from: 'news@shop.example',
      to: ['ada@example.com', 'charles@example.com'],
      subject: 'Your cart misses you – 10 % off',
      text: 'Laptop 13" is waiting',
      html: '<p>Laptop 13&quot; is waiting</p>',
      messageId: '<cart-1@shop.example>',
    });
    expect(email.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(email.headers.to).toBe('Ada Lovelace <ada@example.com>, charles@example.com');
    expect(Date.parse(email.receivedAt)).not.toBeNaN();
    expect(sink.messages()).toEqual([email]);
  });

  it('accepts any credentials', async () => {
    const port = sink.port;
    const authenticated = createTransport({
      host: '127.0.0.1',
      port,
      ignoreTLS: true,
      auth: { user: 'u', pass: 'p' },
    });

    await authenticated.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'auth', text: 'x' });
    authenticated.close();

    expect(sink.messages().map((email) => email.subject)).toEqual(['auth']);
  });

  it('resolves with an email that arrived before the wait', async () => {
    await mailer.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'early', text: 'x' });

    await expect(sink.waitForEmail((email) => email.subject === 'early', 100)).resolves.toMatchObject({
      to: ['b@example.com'],
    });
  });

  it('times out listing what did arrive', async () => {
    await mailer.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'Welcome', text: 'x' });

    await expect(sink.waitForEmail((email) => email.subject === 'Receipt', 200)).rejects.toThrow(
      /No matching email arrived within 200 ms; 1 email arrived:\n {2}- "Welcome" from a@example\.com to b@example\.com/,
    );
  });

  it('clear() forgets received emails', async () => {
    await mailer.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'old', text: 'x' });

    sink.clear();

    expect(sink.messages()).toEqual([]);
  });

  it('rejects a message over 10 MB', async () => {
    const huge = 'x'.repeat(11 * 1024 * 1024);

    await expect(
      mailer.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'huge', text: huge }),
    ).rejects.toMatchObject({ responseCode: 552 });
    expect(sink.messages()).toEqual([]);
  });

  it('stop() rejects pending waits', async () => {
    const waiting = sink.waitForEmail(() => true, 5_000);

    await sink.stop();

    await expect(waiting).rejects.toThrow('SMTP sink stopped while waiting for an email.');
  });
});
