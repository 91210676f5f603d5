import { type EmailTemplate } from '../templates/email-template.js';
import { type RenderOutcome } from './render-outcome.js';

// What the render pool and its worker threads say to each other (see RenderPool).

/**
 * Renders for one thread. The inputs travel as one JSON text (they came as JSON and are plain data;
 * a string crosses threads as one copy, where a structured clone of many small objects is slow), the
 * versions by key; their parts only when the thread may lack them.
 */
export interface RenderBatch {
  /** Names the batch in the thread's answers. */
  id: number;
  /** The version of each render, by key (see renderKeyOf). */
  keys: string[];
  /** JSON of the renders' inputs (RenderInput[]), in the order of `keys`. */
  inputs: string;
  /** Versions this thread may not have yet, by key. */
  templates: Record<string, EmailTemplate>;
}

/**
 * What a thread answers, on its own port and in order: that it starts a batch (the time limit runs
 * from then), then the batch's results, in the order of its `keys`.
 */
export type ThreadMessage =
  { kind: 'started'; id: number } | { kind: 'rendered'; id: number; results: JobResult[] };

/** This thread does not have the job's version: the pool sends it again with the parts. */
export const TEMPLATE_NOT_HERE = 0;
export type JobResult = RenderOutcome | typeof TEMPLATE_NOT_HERE;

/**
 * How many versions a thread keeps; a full store starts again. The pool applies the same rule to
 * what it sent each thread, so it knows which parts the thread has.
 */
export const TEMPLATES_KEPT = 1_000;

/** Makes room for `key` in a thread's store of versions, or in the pool's record of it: a full one starts again. */
export function makeRoom(
  store: { has(key: string): boolean; size: number; clear(): void },
  key: string,
): void {
  if (!store.has(key) && store.size >= TEMPLATES_KEPT) store.clear();
}
