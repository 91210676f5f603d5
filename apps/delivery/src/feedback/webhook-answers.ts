import { BadRequestException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { fieldErrors } from '@mesh/runtime';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { type FeedbackEvent, type RecordFeedbackUseCase } from './record-feedback.usecase.js';

/** What an ESP webhook call answers: how many reports it carried and what became of them. */
export interface Received {
  received: number;
  applied: number;
  duplicates: number;
  ignored: number;
}

export const unsigned = () =>
  new UnauthorizedException({
    error: 'invalid_signature',
    message: 'the webhook signature is missing, wrong or too old',
  });

export const off = (setting: string) =>
  new NotFoundException({
    error: 'webhook_not_configured',
    message: `set ${setting} to receive this webhook`,
  });

/** The body as `type`, or a 400 naming each field at fault. */
export function checked<T extends object>(type: new () => T, body: unknown, forbidUnknown: boolean): T {
  const instance = plainToInstance(type, body ?? {});
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: forbidUnknown });
  if (errors.length > 0)
    throw new BadRequestException({
      error: 'invalid_request',
      message: 'the request is not valid',
      fields: fieldErrors(errors),
    });
  return instance;
}

/** Records each report, in order; the answer counts what was new and what was a redelivery. */
export async function recordAll(feedback: RecordFeedbackUseCase, events: FeedbackEvent[]): Promise<Received> {
  const result: Received = { received: events.length, applied: 0, duplicates: 0, ignored: 0 };
  for (const event of events) {
    const outcome = await feedback.execute(event);
    if (outcome === 'applied') result.applied += 1;
    else result.duplicates += 1;
  }
  return result;
}
