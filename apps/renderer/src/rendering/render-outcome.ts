import { type EmailTemplate } from '../templates/email-template.js';
import { type RenderInput, templateData } from './render-input.js';
import { type RenderResult, type TemplateEngine } from './template-engine.js';
import { MissingDataError, RenderAbort } from './template-helpers.js';

/**
 * Why a render failed: RENDER_ERROR (the template threw or does not compile), MISSING_DATA (it would
 * have printed missing data), TIMEOUT (it ran past the time limit), or the code a template or its
 * declared fallback aborted with.
 */
export type RenderFailure = { ok: false; code: string; reason: string };
export type RenderOutcome = ({ ok: true } & RenderResult) | RenderFailure;

export function failureOf(error: unknown): RenderFailure {
  const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000) || 'no reason given';
  if (error instanceof RenderAbort) return { ok: false, code: error.code.slice(0, 64) || 'ABORTED', reason };
  if (error instanceof MissingDataError) return { ok: false, code: error.code, reason };
  return { ok: false, code: 'RENDER_ERROR', reason };
}

/** One render as plain data (errors included), the same in a worker thread and in the main thread. */
export function renderOutcome(
  engine: TemplateEngine,
  template: EmailTemplate,
  input: RenderInput,
  key?: string,
): RenderOutcome {
  try {
    return { ok: true, ...engine.render(template, templateData(input), key) };
  } catch (error) {
    return failureOf(error);
  }
}
