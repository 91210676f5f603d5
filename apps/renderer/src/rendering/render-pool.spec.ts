import { RendererEnv } from '../config.js';
import { type EmailTemplate } from '../templates/email-template.js';
import { type RenderInput } from './render-input.js';
import { RenderPool } from './render-pool.js';

// The pool's worker threads load the build (dist/): run `npm run build` first.

const GREETING: EmailTemplate = {
  templateId: 'greeting',
  version: 1,
  subject: 'Hello <%= it.first_name %>',
  html: '<p>Hello <%= it.first_name %></p>',
  text: '',
};
const ENDLESS: EmailTemplate = {
  templateId: 'endless',
  version: 1,
  subject: 'x',
  html: '<% while (true) {} %>',
  text: '',
};
/** Templates are code, and can end their own thread. */
const EXITING: EmailTemplate = {
  templateId: 'exiting',
  version: 1,
  subject: 'x',
  html: '<% process.exit(1) %>',
  text: '',
};

function input(firstName: string): RenderInput {
  return {
    traits: { first_name: firstName },
    computed: {},
    products: [],
    trigger: {},
    campaign: { id: 'c' },
  };
}

describe('RenderPool', () => {
  let pool: RenderPool;

  beforeAll(() => {
    pool = new RenderPool(Object.assign(new RendererEnv(), { RENDER_WORKERS: 2, RENDER_TIMEOUT_MS: 1_000 }));
  });

  afterAll(async () => {
    await pool.onModuleDestroy();
  });

  it('renders many sends in batches, each with its own data, in order of asking', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => pool.render(GREETING, input(`Ada ${i}`))),
    );
    outcomes.forEach((outcome, i) => {
      expect(outcome).toMatchObject({ ok: true, subject: `Hello Ada ${i}`, html: `<p>Hello Ada ${i}</p>` });
    });
  });

  it('fails only the endless render of a batch as TIMEOUT; the renders beside it and after it succeed', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `Grace ${i}`);
    const beside = names.map((name) => pool.render(GREETING, input(name)));
    const endless = pool.render(ENDLESS, input('Linus'));
    const after = names.map((name) => pool.render(GREETING, input(`${name}!`)));
    await expect(endless).resolves.toMatchObject({ ok: false, code: 'TIMEOUT' });
    const outcomes = await Promise.all([...beside, ...after]);
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    // The replaced thread starts without compiled versions: it is sent the version again.
    const again = await Promise.all(names.map((name) => pool.render(GREETING, input(name))));
    expect(again.map((outcome) => outcome.ok && outcome.subject)).toEqual(
      names.map((name) => `Hello ${name}`),
    );
  });

  it('fails only the render whose template ends its thread; the renders beside it and after it succeed', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `Alan ${i}`);
    const beside = names.map((name) => pool.render(GREETING, input(name)));
    const exiting = pool.render(EXITING, input('Linus'));
    const after = names.map((name) => pool.render(GREETING, input(`${name}!`)));
    // A failure of the template (reported as renderer.failed), not redelivered to end a thread again.
    await expect(exiting).resolves.toMatchObject({
      ok: false,
      code: 'RENDER_ERROR',
      reason: expect.stringMatching(/ended its render thread/) as unknown,
    });
    const outcomes = await Promise.all([...beside, ...after]);
    expect(outcomes.map((outcome) => outcome.ok && outcome.subject)).toEqual([
      ...names.map((name) => `Hello ${name}`),
      ...names.map((name) => `Hello ${name}!`),
    ]);
    await expect(pool.render(GREETING, input('Ada'))).resolves.toMatchObject({ subject: 'Hello Ada' });
  });

  it('keeps a draft apart from the same version once published', async () => {
    const draft = { ...GREETING, templateId: 'versioned', html: '<p>draft</p>', draft: true as const };
    const published = { ...GREETING, templateId: 'versioned', html: '<p>published</p>' };
    await expect(pool.render(draft, input('Ada'))).resolves.toMatchObject({ html: '<p>draft</p>' });
    await expect(pool.render(published, input('Ada'))).resolves.toMatchObject({ html: '<p>published</p>' });
  });

  describe('with one thread', () => {
    it('renders the batch that waited behind an endless one in the same thread, once the thread is replaced', async () => {
      const single = new RenderPool(
        Object.assign(new RendererEnv(), { RENDER_WORKERS: 1, RENDER_TIMEOUT_MS: 1_000 }),
      );
      try {
        // Idle, the endless render goes alone; the next waits in the same thread, the rest in the pool.
        const endless = single.render(ENDLESS, input('Linus'));
        const behind = Array.from({ length: 10 }, (_, i) => single.render(GREETING, input(`Grace ${i}`)));
        await expect(endless).resolves.toMatchObject({ ok: false, code: 'TIMEOUT' });
        const outcomes = await Promise.all(behind);
        expect(outcomes.map((outcome) => outcome.ok && outcome.subject)).toEqual(
          Array.from({ length: 10 }, (_, i) => `Hello Grace ${i}`),
        );
      } finally {
        await single.onModuleDestroy();
      }
    });

    it('rejects the renders in flight and waiting when the module is destroyed, and any asked after', async () => {
      const single = new RenderPool(
        Object.assign(new RendererEnv(), { RENDER_WORKERS: 1, RENDER_TIMEOUT_MS: 60_000 }),
      );
      const endless = single.render(ENDLESS, input('Linus'));
      const waiting = Array.from({ length: 10 }, (_, i) => single.render(GREETING, input(`Grace ${i}`)));
      const settled = Promise.allSettled([endless, ...waiting]);
      // Most likely the thread is in the endless loop by then (either way, nothing may be left pending).
      await new Promise((resolve) => setTimeout(resolve, 200));
      await single.onModuleDestroy();
      const reasons = (await settled).map(
        (outcome) => outcome.status === 'rejected' && (outcome.reason as Error).message,
      );
      expect(reasons).toEqual(Array.from({ length: 11 }, () => 'the render pool is closed'));
      await expect(single.render(GREETING, input('Ada'))).rejects.toThrow(/closed/);
    });
  });
});
