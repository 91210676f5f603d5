import { NotFoundException, UnauthorizedException } from '@nestjs/common';
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
