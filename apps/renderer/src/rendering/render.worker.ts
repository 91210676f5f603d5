import { type MessagePort } from 'node:worker_threads';
import { type EmailTemplate } from '../templates/email-template.js';
import { type RenderInput } from './render-input.js';
import { type RenderOutcome, renderOutcome } from './render-outcome.js';
import { TemplateEngine } from './template-engine.js';

/** One engine per worker thread: it keeps the versions it compiled, by `templateId:version`. */
const engine = new TemplateEngine();

export interface RenderTask {
  template: EmailTemplate;
  input: RenderInput;
  /** Told when this thread starts the render: the time limit runs from then. */
  started?: MessagePort;
}

/** A piscina task: renders one email in this worker thread. */
export default function render(task: RenderTask): RenderOutcome {
  task.started?.postMessage('started');
  task.started?.close();
  return renderOutcome(engine, task.template, task.input);
}
