import { parentPort } from 'node:worker_threads';
import { type EmailTemplate } from '../templates/email-template.js';
import {
  type JobResult,
  makeRoom,
  type RenderBatch,
  TEMPLATE_NOT_HERE,
  type ThreadMessage,
} from './render-batch.js';
import { type RenderInput } from './render-input.js';
import { renderOutcome } from './render-outcome.js';
import { TemplateEngine } from './template-engine.js';

// A render thread of RenderPool: it renders the batches its port brings, one after the other.

/** One engine per worker thread: it keeps the versions it compiled, by render key. */
const engine = new TemplateEngine();
/** The versions this thread was sent, by render key (see renderKeyOf); sent once, then named. */
const templates = new Map<string, EmailTemplate>();

function render(batch: RenderBatch): JobResult[] {
  for (const [key, template] of Object.entries(batch.templates)) {
    makeRoom(templates, key);
    templates.set(key, template);
  }
  const inputs = JSON.parse(batch.inputs) as RenderInput[];
  return batch.keys.map((key, index) => {
    const template = templates.get(key);
    return template ? renderOutcome(engine, template, inputs[index]!, key) : TEMPLATE_NOT_HERE;
  });
}

const port = parentPort!;
port.on('message', (batch: RenderBatch) => {
  port.postMessage({ kind: 'started', id: batch.id } satisfies ThreadMessage);
  port.postMessage({ kind: 'rendered', id: batch.id, results: render(batch) } satisfies ThreadMessage);
});
