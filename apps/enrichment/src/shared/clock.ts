import { Injectable } from '@nestjs/common';

/**
 * The time enrichment decides by (recency, waits, timers). One instance per app, so a test can move
 * it forward (`app.get(Clock).advance(ms)`) instead of waiting.
 */
@Injectable()
export class Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
