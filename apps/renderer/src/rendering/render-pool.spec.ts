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

  it('keeps a draft apart from the same version once published', async () => {
    const draft = { ...GREETING, templateId: 'versioned', html: '<p>draft</p>', draft: true as const };
    const published = { ...GREETING, templateId: 'versioned', html: '<p>published</p>' };
    await expect(pool.render(draft, input('Ada'))).resolves.toMatchObject({ html: '<p>draft</p>' });
    await expect(pool.render(published, input('Ada'))).resolves.toMatchObject({ html: '<p>published</p>' });
  });
});
