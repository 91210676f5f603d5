import { generateKeyPairSync } from 'node:crypto';
import {
  isAwsSnsUrl,
  sendgridKey,
  signGeneric,
  signMailgun,
  signSendgrid,
  snsStringToSign,
  verifyGeneric,
  verifyMailgun,
  verifySendgrid,
} from './webhook-signatures.js';

const now = new Date('2026-11-28T12:00:00Z');
const t = Math.floor(now.getTime() / 1000);

describe('webhook signatures', () => {
  it('accepts the generic signature over timestamp and raw body, and nothing else', () => {
    const body = '{"events":[]}';
    const header = signGeneric('s3cret-s3cret-s3cret', t, body);
    expect(verifyGeneric('s3cret-s3cret-s3cret', header, body, now, 300)).toBe(true);
    expect(verifyGeneric('s3cret-s3cret-s3cret', header, `${body} `, now, 300)).toBe(false);
    expect(verifyGeneric('another-secret-abcdef', header, body, now, 300)).toBe(false);
    expect(verifyGeneric('s3cret-s3cret-s3cret', header, body, new Date(now.getTime() + 301_000), 300)).toBe(
      false,
    );
    expect(verifyGeneric('s3cret-s3cret-s3cret', undefined, body, now, 300)).toBe(false);
    expect(verifyGeneric('s3cret-s3cret-s3cret', `t=${t},v1=zz`, body, now, 300)).toBe(false);
    // rotation: the old and the new secret's signature side by side
    const rotated = `${header},v1=${signGeneric('old-secret-old-secret', t, body).split('v1=')[1]}`;
    expect(verifyGeneric('old-secret-old-secret', rotated, body, now, 300)).toBe(true);
  });

  it("checks Mailgun's HMAC over timestamp + token with the signing key", () => {
    // Mailgun's documented example shape: a 50-character token, a unix timestamp, a hex HMAC-SHA256.
    const token = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0';
    const signature = signMailgun('key-signing', String(t), token);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyMailgun('key-signing', { timestamp: String(t), token, signature }, now, 300)).toBe(true);
    expect(verifyMailgun('key-other', { timestamp: String(t), token, signature }, now, 300)).toBe(false);
    expect(verifyMailgun('key-signing', { timestamp: String(t - 1), token, signature }, now, 300)).toBe(
      false,
    );
    expect(
      verifyMailgun(
        'key-signing',
        {
          timestamp: String(t - 1000),
          token,
          signature: signMailgun('key-signing', String(t - 1000), token),
        },
        now,
        300,
      ),
    ).toBe(false);
  });

  it("checks SendGrid's ECDSA signature of timestamp + raw body with the webhook's verification key", () => {
    // The example SendGrid's own library is tested with: a key, a payload, its timestamp and signature.
    const key = sendgridKey(
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==',
    );
    const signature =
      'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=';
    const payload = JSON.stringify({
      category: 'example_payload',
      event: 'test_event',
      message_id: 'message_id',
    });
    const then = new Date(1588788367 * 1000);
    expect(verifySendgrid(key, signature, '1588788367', payload, then, 300)).toBe(true);
    expect(verifySendgrid(key, signature, '1588788367', 'payload', then, 300)).toBe(false);
    expect(verifySendgrid(key, signature, '1588788368', payload, then, 300)).toBe(false);
    expect(
      verifySendgrid(key, signature, '1588788367', payload, new Date(then.getTime() + 301_000), 300),
    ).toBe(false);
    expect(verifySendgrid(key, 'bm90IGEgc2lnbmF0dXJl', '1588788367', payload, then, 300)).toBe(false);
    expect(verifySendgrid(key, undefined, '1588788367', payload, then, 300)).toBe(false);

    // And our own signer (for tests) makes signatures that key pair's public half accepts.
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const der = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const own = signSendgrid(pair.privateKey, String(t), '[]');
    expect(verifySendgrid(sendgridKey(der), own, String(t), '[]', now, 300)).toBe(true);
    expect(verifySendgrid(key, own, String(t), '[]', now, 300)).toBe(false);
  });

  it('builds the string SNS signs as AWS documents it: the covered fields present, in order, one per line pair', () => {
    const base = {
      MessageId: 'm-1',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ses',
      Message: '{"a":1}',
      Timestamp: '2026-11-28T12:00:00.000Z',
      SignatureVersion: '2',
      Signature: 'x',
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/c.pem',
    };
    expect(snsStringToSign({ ...base, Type: 'Notification' })).toBe(
      'Message\n{"a":1}\nMessageId\nm-1\nTimestamp\n2026-11-28T12:00:00.000Z\n' +
        'TopicArn\narn:aws:sns:eu-west-1:123456789012:ses\nType\nNotification\n',
    );
    expect(snsStringToSign({ ...base, Type: 'Notification', Subject: 'S' })).toContain(
      'MessageId\nm-1\nSubject\nS\nTimestamp',
    );
    expect(
      snsStringToSign({ ...base, Type: 'SubscriptionConfirmation', Token: 't', SubscribeURL: 'https://u' }),
    ).toBe(
      'Message\n{"a":1}\nMessageId\nm-1\nSubscribeURL\nhttps://u\nTimestamp\n2026-11-28T12:00:00.000Z\n' +
        'Token\nt\nTopicArn\narn:aws:sns:eu-west-1:123456789012:ses\nType\nSubscriptionConfirmation\n',
    );
  });

  it('takes SNS certificates and confirmations only from AWS SNS hosts, over https', () => {
    expect(isAwsSnsUrl('https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem')).toBe(true);
    expect(isAwsSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem')).toBe(true);
    expect(isAwsSnsUrl('http://sns.eu-west-1.amazonaws.com/x.pem')).toBe(false);
    expect(isAwsSnsUrl('https://sns.eu-west-1.amazonaws.com.evil.example/x.pem')).toBe(false);
    expect(isAwsSnsUrl('https://evil.example/sns.eu-west-1.amazonaws.com/x.pem')).toBe(false);
    expect(isAwsSnsUrl('not a url')).toBe(false);
    expect(isAwsSnsUrl(undefined)).toBe(false);
  });
});
