import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

  async render(template: EmailTemplate, input: RenderInput): Promise<RenderOutcome> {
    try {
      return await this.pool.run({ template, input }, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') {
        return {
          ok: false,
          code: 'TIMEOUT',
          reason: `the template ran longer than ${this.timeoutMs} ms (time limit RENDER_TIMEOUT_MS)`,
        };
      }
      throw error;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.destroy();
  }
}
