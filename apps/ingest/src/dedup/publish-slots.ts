/**
 * At most `size` publishes in flight from batches (imports, /v1/batch, webhooks): past a few
 * hundred, the NATS client's per-request timers and reply bookkeeping cost more than the extra
 * parallelism brings (measured: 200 in flight ≈ 2× the rate of 2,000). Waiters go first come,
 * first served.
 */
export class PublishSlots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
