import { type EmailTemplate } from '../templates/email-template.js';
import { type JobResult, type RenderBatch, TEMPLATE_NOT_HERE } from './render-batch.js';
import { type RenderInput } from './render-input.js';
import { renderOutcome } from './render-outcome.js';
import { TemplateEngine } from './template-engine.js';

/** One engine per worker thread: it keeps the versions it compiled, by render key. */
const engine = new TemplateEngine();
/** The versions this thread was sent, by render key (see renderKeyOf); sent once, then named. */
const templates = new Map<string, EmailTemplate>();
const TEMPLATES_KEPT = 1_000;

/** A piscina task: renders a batch of emails in this worker thread, one after the other. */
export default function render(batch: RenderBatch): JobResult[] {
  batch.started?.postMessage(0);
  batch.started?.close();
  for (const [key, template] of Object.entries(batch.templates)) {
    if (!templates.has(key) && templates.size >= TEMPLATES_KEPT) templates.clear();
    templates.set(key, template);
  }
  const inputs = JSON.parse(batch.inputs) as RenderInput[];
  return batch.keys.map((key, index) => {
    const template = templates.get(key);
    return template ? renderOutcome(engine, template, inputs[index]!, key) : TEMPLATE_NOT_HERE;
  });
}
