import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Piscina } from 'piscina';
import { RendererEnv } from '../config.js';
import { type EmailTemplate, renderKeyOf } from '../templates/email-template.js';
import { type RenderInput } from './render-input.js';
import { type RenderOutcome } from './render-outcome.js';
import { type JobResult, type RenderBatch, TEMPLATE_NOT_HERE } from './render-batch.js';

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
/** How often a version's parts travel with a batch before threads are expected to have them. */
const SHIPS_PER_THREAD = 2;

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

class QueueTimeoutError extends Error {}
class TimeLimitError extends Error {}

/**
 * Templates are code: every render runs in a pool of worker threads with a time limit, so an endless
 * loop fails that render (TIMEOUT) and its thread is replaced, while the other threads go on.
 *
 * Renders wait in a queue here and go to the threads in batches (up to BATCH_MAX in one message, as
 * many as waited while the threads were busy: one at a time when the service is idle). A version's
 * parts go to the threads a few times, then only its key (threads keep compiled versions by key; a
 * thread without it answers TEMPLATE_NOT_HERE and gets the parts). The time limit of a batch is the
 * limit of one render, counted from the moment a thread starts it (it says so over a port); a batch
 * that runs past it (or whose thread dies) is rendered again one render per batch, so only the
 * template at fault fails (TIMEOUT) and the others render.
 */
@Injectable()
export class RenderPool implements OnModuleDestroy {
  private readonly pool: Piscina<RenderBatch, JobResult[]>;
  private readonly timeoutMs: number;
  private readonly threads: number;
  private readonly queue: Job[] = [];
  private inFlight = 0;
  private readonly ships = new Map<string, number>();
  private closed = false;

  constructor(@Inject(RendererEnv) env: RendererEnv) {
    this.timeoutMs = env.RENDER_TIMEOUT_MS;
    this.threads = env.RENDER_WORKERS;
    this.pool = new Piscina<RenderBatch, JobResult[]>({
      filename: workerFile(),
      minThreads: env.RENDER_WORKERS,
      maxThreads: env.RENDER_WORKERS,
      idleTimeout: 60_000,
    });
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

  /** Sends waiting renders to the threads: a batch per thread, and one more each waiting behind. */
  private dispatch(): void {
    if (this.closed) {
      for (const job of this.queue.splice(0)) job.reject(new Error('the render pool is closed'));
      return;
    }
    while (this.inFlight < this.threads * 2 && this.queue.length > 0) {
      const batch = this.queue[0]!.alone
        ? this.queue.splice(0, 1)
        : this.queue.splice(0, Math.min(BATCH_MAX, this.firstAlone()));
      this.inFlight++;
      void this.run(batch)
        .catch((error: unknown) => {
          // Not expected (run settles its jobs); a job settled already ignores this.
          for (const job of batch) job.reject(error);
        })
        .finally(() => {
          this.inFlight--;
          this.dispatch();
        });
    }
  }

  /** How many jobs at the head of the queue may share a batch (up to the first one to run alone). */
  private firstAlone(): number {
    const index = this.queue.findIndex((job) => job.alone);
    return index === -1 ? this.queue.length : index;
  }

  private async run(jobs: Job[]): Promise<void> {
    let results: JobResult[];
    try {
      results = await this.runBatch(jobs);
    } catch (error) {
      if (jobs.length > 1 && !(error instanceof QueueTimeoutError)) {
        // Which render ran too long or killed the thread is not known: each goes again alone.
        this.queue.unshift(...jobs.map((job) => ({ ...job, alone: true })));
        return;
      }
      if (error instanceof TimeLimitError) {
        jobs[0]!.resolve({
          ok: false,
          code: 'TIMEOUT',
          reason: `the template ran longer than ${this.timeoutMs} ms (time limit RENDER_TIMEOUT_MS)`,
        });
        return;
      }
      for (const job of jobs) job.reject(error);
      return;
    }
    const missing: Job[] = [];
    results.forEach((result, index) => {
      const job = jobs[index]!;
      if (result !== TEMPLATE_NOT_HERE) job.resolve(result);
      else if (job.withTemplate) job.reject(new Error(`the render thread did not keep ${job.key}`));
      else missing.push({ ...job, withTemplate: true });
    });
    this.queue.unshift(...missing);
  }

  private async runBatch(jobs: Job[]): Promise<JobResult[]> {
    const templates: Record<string, EmailTemplate> = {};
    for (const job of jobs) {
      if (job.key in templates) continue;
      const shipped = this.ships.get(job.key) ?? 0;
      if (!job.withTemplate && shipped >= this.threads * SHIPS_PER_THREAD) continue;
      templates[job.key] = job.template;
      if (!this.ships.has(job.key) && this.ships.size >= 10_000) this.ships.clear();
      this.ships.set(job.key, shipped + 1);
    }
    const { port1: startedPort, port2: workerPort } = new MessageChannel();
    const controller = new AbortController();
    let ranTooLong = false;
    let runningTimer: NodeJS.Timeout | undefined;
    const queueTimer = setTimeout(
      () => controller.abort(),
      Math.max(30_000, this.timeoutMs * QUEUE_LIMIT_FACTOR),
    );
    startedPort.once('message', () => {
      clearTimeout(queueTimer);
      runningTimer = setTimeout(() => {
        ranTooLong = true;
        controller.abort();
      }, this.timeoutMs);
    });
    try {
      return await this.pool.run(
        {
          keys: jobs.map((job) => job.key),
          inputs: JSON.stringify(jobs.map((job) => job.input)),
          templates,
          started: workerPort,
        },
        { signal: controller.signal, transferList: [workerPort] },
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') {
        if (!ranTooLong) {
          throw new QueueTimeoutError('no render thread became free in time; the render will be retried', {
            cause: error,
          });
        }
        throw new TimeLimitError('the batch ran past the time limit', { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(queueTimer);
      clearTimeout(runningTimer);
      startedPort.close();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the render pool is closed'));
    await this.pool.destroy();
  }
}
