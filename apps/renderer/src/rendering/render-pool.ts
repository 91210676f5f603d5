import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { RendererEnv } from '../config.js';
import { type EmailTemplate, renderKeyOf } from '../templates/email-template.js';
import { type RenderInput } from './render-input.js';
import { type RenderOutcome } from './render-outcome.js';
import {
  type JobResult,
  makeRoom,
  type RenderBatch,
  TEMPLATE_NOT_HERE,
  type ThreadMessage,
} from './render-batch.js';

/**
 * The worker's compiled file: beside this one in dist/; from the TypeScript sources (tests), the
 * build's copy, so `npm run build` comes first.
 */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts')
    ? here
        .replace(/([\\/])apps[\\/]renderer[\\/]src[\\/]/, '$1dist$1apps$1renderer$1src$1')
        .replace(/\.ts$/, '.js')
    : here;
  const worker = file.replace(/render-pool\.js$/, 'render.worker.js');
  if (!existsSync(worker))
    throw new Error(`the render worker ${worker} is missing: run "npm run build" first`);
  return worker;
}

/** How many render time limits a batch may wait for a free thread before its renders are retried later. */
const QUEUE_LIMIT_FACTOR = 10;
/** The most renders sent to a thread in one message. */
const BATCH_MAX = 32;
/** Batches sent to a thread at once: the one it renders, and the next, so it never waits for the pool. */
const BATCHES_PER_THREAD = 2;

interface Job {
  key: string;
  template: EmailTemplate;
  input: RenderInput;
  resolve(outcome: RenderOutcome): void;
  reject(error: unknown): void;
  /** Rendered in a batch of its own (after its batch ran too long or failed). */
  alone: boolean;
  /** The thread lacked the version: send its parts with this job. */
  withTemplate: boolean;
}

/** Renders sent to a thread in one message. */
interface Batch {
  id: number;
  jobs: Job[];
  /** The thread said it started the batch. */
  started: boolean;
  /** Until the batch starts, how long it may wait for its thread; from then, its time limit. */
  timer: NodeJS.Timeout;
}

/** A worker thread, and what the pool knows of it. */
interface Thread {
  /** Its place among the pool's threads; a replacement takes the same. */
  slot: number;
  worker: Worker;
  /** The batches it was sent and has not answered, in the order sent (the order it renders them). */
  batches: Batch[];
  /** The versions it was sent the parts of, kept by the same rule as its own store (makeRoom). */
  versions: Set<string>;
  /** It started a batch: it works, so if it ends, a replacement starts at once (not on a failed start). */
  proven: boolean;
}

class QueueTimeoutError extends Error {}
class TimeLimitError extends Error {}

/**
 * Templates are code: every render runs in a pool of worker threads with a time limit, so an endless
 * loop fails that render (TIMEOUT) and its thread is replaced, while the other threads go on.
 *
 * Renders wait in a queue here and go to the threads in batches (up to BATCH_MAX in one message, as
 * many as waited while the threads were busy: one at a time when the service is idle), at most
 * BATCHES_PER_THREAD to a thread at once. A version's parts go to a thread once, then only its key
 * (threads keep compiled versions by key; a thread without it answers TEMPLATE_NOT_HERE and gets the
 * parts). Each thread answers on its own port, in order: "started" when it starts a batch, then the
 * results. The time limit of a batch is the limit of one render, counted from "started"; a batch that
 * runs past it (or whose thread dies) is rendered again one render per batch, so only the template at
 * fault fails (TIMEOUT), and the batch that waited behind it goes to another thread as it was. Plain
 * worker_threads rather than a pool library: a library's bookkeeping cost more CPU per render than
 * the hop to the thread itself.
 */
@Injectable()
export class RenderPool implements OnModuleDestroy {
  private readonly file = workerFile();
  private readonly timeoutMs: number;
  private readonly queueLimitMs: number;
  /** A slot is empty after a thread that never worked ended; dispatch starts one when it needs it. */
  private readonly threads: (Thread | undefined)[];
  private readonly queue: Job[] = [];
  private lastBatchId = 0;
  private closed = false;

  constructor(@Inject(RendererEnv) env: RendererEnv) {
    this.timeoutMs = env.RENDER_TIMEOUT_MS;
    this.queueLimitMs = Math.max(30_000, env.RENDER_TIMEOUT_MS * QUEUE_LIMIT_FACTOR);
    this.threads = Array.from({ length: env.RENDER_WORKERS }, (_, slot) => this.startThread(slot));
  }

  /**
   * Renders one email. A render that cannot even get a thread within QUEUE_LIMIT_FACTOR limits is a
   * transient failure (the promise rejects; the message is redelivered), not a TIMEOUT of the template.
   */
  render(template: EmailTemplate, input: RenderInput): Promise<RenderOutcome> {
    if (this.closed) return Promise.reject(new Error('the render pool is closed'));
    return new Promise<RenderOutcome>((resolve, reject) => {
      const key = renderKeyOf(template);
      this.queue.push({ key, template, input, resolve, reject, alone: false, withTemplate: false });
      this.dispatch();
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    const closed = new Error('the render pool is closed');
    for (const job of this.queue.splice(0)) job.reject(closed);
    const threads = this.threads.splice(0).filter((thread) => thread !== undefined);
    for (const batch of threads.flatMap((thread) => thread.batches.splice(0))) {
      clearTimeout(batch.timer);
      for (const job of batch.jobs) job.reject(closed);
    }
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private startThread(slot: number): Thread {
    const worker = new Worker(this.file);
    // Batches in flight keep the process up (their timers); idle threads do not.
    worker.unref();
    const thread: Thread = { slot, worker, batches: [], versions: new Set(), proven: false };
    worker.on('message', (message: ThreadMessage) => this.heard(thread, message));
    worker.on('error', (error: Error) => this.retire(thread, error));
    worker.on('exit', (code) =>
      this.retire(thread, new Error(`the render thread stopped (exit code ${code})`)),
    );
    return thread;
  }

  /** Sends waiting renders to the threads: the idle ones first, then one more batch behind each. */
  private dispatch(): void {
    if (this.closed) {
      for (const job of this.queue.splice(0)) job.reject(new Error('the render pool is closed'));
      return;
    }
    while (this.queue.length > 0) {
      const slot = this.freestSlot();
      if (slot === undefined) return;
      const jobs = this.nextBatch();
      try {
        this.send((this.threads[slot] ??= this.startThread(slot)), jobs);
      } catch (error) {
        for (const job of jobs) job.reject(error);
      }
    }
  }

  /** The slot with the fewest batches, if one can take another. */
  private freestSlot(): number | undefined {
    let freest: number | undefined;
    let fewest = BATCHES_PER_THREAD;
    this.threads.forEach((thread, slot) => {
      const batches = thread?.batches.length ?? 0;
      if (batches < fewest) [freest, fewest] = [slot, batches];
    });
    return freest;
  }

  /** The jobs at the head of the queue that share the next batch (one to run alone goes by itself). */
  private nextBatch(): Job[] {
    if (this.queue[0]!.alone) return this.queue.splice(0, 1);
    const most = Math.min(BATCH_MAX, this.queue.length);
    let size = 1;
    while (size < most && !this.queue[size]!.alone) size++;
    return this.queue.splice(0, size);
  }

  private send(thread: Thread, jobs: Job[]): void {
    const templates: Record<string, EmailTemplate> = {};
    for (const job of jobs) {
      if (job.key in templates || (!job.withTemplate && thread.versions.has(job.key))) continue;
      templates[job.key] = job.template;
      makeRoom(thread.versions, job.key);
      thread.versions.add(job.key);
    }
    const id = ++this.lastBatchId;
    thread.worker.postMessage({
      id,
      keys: jobs.map((job) => job.key),
      inputs: JSON.stringify(jobs.map((job) => job.input)),
      templates,
    } satisfies RenderBatch);
    const batch: Batch = {
      id,
      jobs,
      started: false,
      timer: setTimeout(
        () =>
          this.retire(
            thread,
            new QueueTimeoutError('no render thread became free in time; the render will be retried'),
            batch,
          ),
        this.queueLimitMs,
      ),
    };
    thread.batches.push(batch);
  }

  /** A thread's answer, about the first batch it has (it renders them in order). */
  private heard(thread: Thread, message: ThreadMessage): void {
    const batch = thread.batches[0];
    if (this.threads[thread.slot] !== thread || batch?.id !== message.id) return;
    clearTimeout(batch.timer);
    switch (message.kind) {
      case 'started':
        batch.started = true;
        thread.proven = true;
        batch.timer = setTimeout(
          () => this.retire(thread, new TimeLimitError('the batch ran past the time limit')),
          this.timeoutMs,
        );
        return;
      case 'rendered':
        thread.batches.shift();
        try {
          this.settle(batch.jobs, message.results);
        } catch (error) {
          // Not expected; a job settled already ignores this.
          for (const job of batch.jobs) job.reject(error);
        }
        this.dispatch();
        return;
    }
  }

  private settle(jobs: Job[], results: JobResult[]): void {
    const missing: Job[] = [];
    jobs.forEach((job, index) => {
      const result = results[index];
      if (result === undefined) job.reject(new Error('the render thread gave no result'));
      else if (result !== TEMPLATE_NOT_HERE) job.resolve(result);
      else if (job.withTemplate) job.reject(new Error(`the render thread did not keep ${job.key}`));
      else missing.push({ ...job, withTemplate: true });
    });
    this.queue.unshift(...missing);
  }

  /**
   * Ends a thread that ran past a time limit, waited too long to start `overdue`, or died: its
   * started batch fails (failed), the batches waiting in it go back to the head of the queue as they
   * were, and a replacement (without versions: it is sent their parts) takes its slot. A thread that
   * never started a batch failed to start: what waited in it is rejected, so a thread that cannot
   * start is not started again and again for the same renders.
   */
  private retire(thread: Thread, cause: Error, overdue?: Batch): void {
    if (this.threads[thread.slot] !== thread) return;
    this.threads[thread.slot] = undefined;
    void thread.worker.terminate();
    const again: Job[] = [];
    for (const batch of thread.batches.splice(0)) {
      clearTimeout(batch.timer);
      if (batch.started) again.push(...this.failed(batch.jobs, cause));
      else if (batch === overdue || !thread.proven) for (const job of batch.jobs) job.reject(cause);
      else again.push(...batch.jobs);
    }
    this.queue.unshift(...again);
    if (thread.proven && !this.closed) {
      try {
        this.threads[thread.slot] = this.startThread(thread.slot);
      } catch {
        // The slot stays empty: dispatch starts a thread there when it needs one (or rejects that batch).
      }
    }
    this.dispatch();
  }

  /**
   * A batch whose thread ran past the time limit or died: together, which render was at fault is not
   * known, so each goes again alone (returned, to be queued); alone, the render fails for good, as
   * its template did it: TIMEOUT past the limit, RENDER_ERROR when it ended its thread (an exit, or
   * memory running out), so the send is reported rather than redelivered to kill a thread again.
   */
  private failed(jobs: Job[], cause: Error): Job[] {
    if (jobs.length > 1) return jobs.map((job) => ({ ...job, alone: true }));
    jobs[0]!.resolve(
      cause instanceof TimeLimitError
        ? {
            ok: false,
            code: 'TIMEOUT',
            reason: `the template ran longer than ${this.timeoutMs} ms (time limit RENDER_TIMEOUT_MS)`,
          }
        : {
            ok: false,
            code: 'RENDER_ERROR',
            reason: `the template ended its render thread: ${cause.message}`,
          },
    );
    return [];
  }
}
