import { Injectable } from '@nestjs/common';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isAwsSnsUrl } from './webhook-signatures.js';

const FETCH_TIMEOUT_MS = 5_000;

/**
 * The public keys of Amazon SNS signing certificates, fetched once per certificate URL, and only from
 * AWS's own SNS hosts (a message cannot point us at a key of its choosing).
 */
@Injectable()
export class SnsCertificates {
  private readonly keys = new Map<string, Promise<KeyObject>>();

  key(url: string): Promise<KeyObject> {
    if (!isAwsSnsUrl(url)) return Promise.reject(new Error(`${url} is not an Amazon SNS certificate URL`));
    let key = this.keys.get(url);
    if (!key) {
      key = this.fetchKey(url);
      this.keys.set(url, key);
      key.catch(() => this.keys.delete(url)); // a failed fetch is tried again on the next message
    }
    return key;
  }

  /** A certificate's key known in advance (a machine that cannot reach AWS, and tests). */
  know(url: string, key: KeyObject): void {
    this.keys.set(url, Promise.resolve(key));
  }

  private async fetchKey(url: string): Promise<KeyObject> {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`fetching the SNS certificate ${url}: ${response.status}`);
    return createPublicKey(await response.text());
  }
}
