import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Piscina } from 'piscina';
import { RendererEnv } from '../config.js';
import { type EmailTemplate } from '../templates/email-template.js';
import { type RenderInput } from './render-input.js';
import { type RenderOutcome } from './render-outcome.js';
import { type RenderTask } from './render.worker.js';

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

/** How many render time limits a render may wait for a free thread before it is retried later. */
const QUEUE_LIMIT_FACTOR = 10;

/**
 * Templates are code: every render runs in a pool of worker threads with a time limit, so an endless
 * loop fails that render (TIMEOUT) and its thread is replaced, while the other threads go on.
 */
@Injectable()
export class RenderPool implements OnModuleDestroy {
  private readonly pool: Piscina<RenderTask, RenderOutcome>;
  private readonly timeoutMs: number;

  constructor(@Inject(RendererEnv) env: RendererEnv) {
    this.timeoutMs = env.RENDER_TIMEOUT_MS;
    this.pool = new Piscina<RenderTask, RenderOutcome>({
      filename: workerFile(),
      minThreads: env.RENDER_WORKERS,
      maxThreads: env.RENDER_WORKERS,
      idleTimeout: 60_000,
    });
  }

  /**
   * The time limit counts from the moment a worker starts the render (the worker says so over a
   * port), not from the queue: under load a render may wait for a free thread without being the
   * template's fault. A render that cannot even get a thread within QUEUE_LIMIT_FACTOR limits is a
   * transient failure (the message is redelivered), not a TIMEOUT of the template.
   */
  async render(template: EmailTemplate, input: RenderInput): Promise<RenderOutcome> {
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
        { template, input, started: workerPort },
        { signal: controller.signal, transferList: [workerPort] },
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') {
        if (!ranTooLong)
          throw new Error('no render thread became free in time; the render will be retried', {
            cause: error,
          });
        return {
          ok: false,
          code: 'TIMEOUT',
          reason: `the template ran longer than ${this.timeoutMs} ms (time limit RENDER_TIMEOUT_MS)`,
        };
      }
      throw error;
    } finally {
      clearTimeout(queueTimer);
      clearTimeout(runningTimer);
      startedPort.close();
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.destroy();
  }
}
