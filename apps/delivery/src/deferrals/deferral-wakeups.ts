import { Injectable, type OnApplicationShutdown } from '@nestjs/common';

/**
 * Wakes the release of one profile's priority window when it ends, so a held send waits for its
 * window rather than for the next poll. The poll remains the backstop (a restart in between).
 */
@Injectable()
export class DeferralWakeups implements OnApplicationShutdown {
  private listener?: (profileId: string, until: Date) => void;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  onWake(listener: (profileId: string, until: Date) => void): void {
    this.listener = listener;
  }

  /** Releases the profile's window ending at `at`, `delayMs` from now (once per profile and window). */
  wakeIn(profileId: string, at: Date, delayMs: number): void {
    const key = `${profileId}\u001f${at.getTime()}`;
    if (this.timers.has(key)) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.listener?.(profileId, at);
      },
      Math.max(0, delayMs) + 10,
    );
    timer.unref();
    this.timers.set(key, timer);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
