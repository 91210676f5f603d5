import { Injectable, type OnApplicationShutdown } from '@nestjs/common';

/**
 * Wakes the release of deferred sends at a given time (the end of a priority window), so a held
 * send waits for its window rather than for the next poll. The poll remains the backstop (e.g. for
 * holds written by another replica or before a restart).
 */
@Injectable()
export class DeferralWakeups implements OnApplicationShutdown {
  private listener?: () => void;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  onWake(listener: () => void): void {
    this.listener = listener;
  }

  /** Runs the release `delayMs` from now (once per distinct time). */
  wakeIn(at: Date, delayMs: number): void {
    const when = at.getTime();
    if (this.timers.has(when)) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(when);
        this.listener?.();
      },
      Math.max(0, delayMs) + 10,
    );
    timer.unref();
    this.timers.set(when, timer);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
