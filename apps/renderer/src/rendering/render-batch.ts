import { type MessagePort } from 'node:worker_threads';
import { type EmailTemplate } from '../templates/email-template.js';
import { type RenderOutcome } from './render-outcome.js';

// What the render pool and its worker threads say to each other (see RenderPool).

/**
 * Renders for one thread. The inputs travel as one JSON text (they came as JSON and are plain data;
 * a string crosses threads as one copy, where a structured clone of many small objects is slow), the
 * versions by key; their parts only when the thread may lack them.
 */
export interface RenderBatch {
  /** The version of each render, by key (see renderKeyOf). */
  keys: string[];
  /** JSON of the renders' inputs (RenderInput[]), in the order of `keys`. */
  inputs: string;
  /** Versions this thread may not have yet, by key. */
  templates: Record<string, EmailTemplate>;
  /** Told when this thread starts the batch: the time limit runs from then. */
  started?: MessagePort;
}

/** This thread does not have the job's version: the pool sends it again with the parts. */
export const TEMPLATE_NOT_HERE = 0;
export type JobResult = RenderOutcome | typeof TEMPLATE_NOT_HERE;
