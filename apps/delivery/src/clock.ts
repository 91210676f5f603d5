import { Injectable } from '@nestjs/common';

/** The time decisions are made at; one place to read it, so tests can move it (quiet hours end at 08:00). */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
