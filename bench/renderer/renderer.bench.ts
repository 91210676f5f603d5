import { loadavg } from 'node:os';
import { Eta } from 'eta';
import { Worker } from 'node:worker_threads';
import { RendererEnv } from '../../apps/renderer/src/config.js';
import { inlineCss } from '../../apps/renderer/src/rendering/css-inlining.js';
import { type RenderInput, templateData } from '../../apps/renderer/src/rendering/render-input.js';
import { textTemplateFromHtml } from '../../apps/renderer/src/rendering/email-output.js';
import { renderOutcome } from '../../apps/renderer/src/rendering/render-outcome.js';
import { RenderPool } from '../../apps/renderer/src/rendering/render-pool.js';
import { TemplateEngine } from '../../apps/renderer/src/rendering/template-engine.js';
import { type EmailTemplate } from '../../apps/renderer/src/templates/email-template.js';
import { percentiles, windowed } from '../messaging/bench-stats.js';

// Renders per CPU-second (all threads of this process: the main thread and the render worker) of a
// realistic template — a layout, conditionals, six products, CSS inlined at publish — through the
// service's render path (RenderPool: a worker thread, declared fallbacks, Eta, output guards, URL
// checks), against bare Eta rendering the same inlined template on the main thread, in the same run.
// Bare Eta: Eta's own options (its escaping, no filter), the template compiled once, the same helpers
// and data. A third row renders through the service's engine (declared fallbacks, the print filter,
// output and URL checks) on the main thread without the pool, to tell the guards' cost from the thread
// hop's, and a version without a text part: its text made once at publish, or from each rendered html.
// A fourth row isolates bare Eta as the issue asks of the service (templates are code: renders run
// in worker threads): bare Eta in one plain worker thread, sent the same inputs as JSON in batches
// of 32 on its port, its parts coming back as structured clones; what the thread hop alone costs.
// The machine's load average is printed with the figures.
// Usage: BENCH_RENDERS=20000 BENCH_IN_FLIGHT=64 npm run bench -- renderer
const RENDERS = Number(process.argv[2] ?? process.env.BENCH_RENDERS ?? 20_000);
const IN_FLIGHT = Number(process.argv[3] ?? process.env.BENCH_IN_FLIGHT ?? 64);

const SOURCE = `<!doctype html><html><head><style>
  body { margin: 0; background: #f4f4f6; font-family: Helvetica, Arial, sans-serif; }
  .frame { width: 600px; margin: 0 auto; background: #fff; }
  .hero { padding: 24px; font-size: 22px; color: #222; }
  .grid td { width: 33%; padding: 8px; vertical-align: top; text-align: center; }
  .price { color: #c00; font-weight: bold; }
  .button { display: inline-block; padding: 10px 16px; background: #0a6; color: #fff; text-decoration: none; }
  .footer { font-size: 11px; color: #888; padding: 16px; }
  @media (max-width: 480px) { .grid td { display: block; width: 100%; } }
</style></head><body><table class="frame"><tr><td>
  <div class="hero">Hello <%= it.first_name %>,</div>
  <% if (it.computed.rfm_segment === "champions") { %><p>Thanks for being one of our best customers.</p>
  <% } else if (it.computed.rfm_segment === "at_risk") { %><p>We miss you — here is 10% off.</p>
  <% } else { %><p>Picked for you this week.</p><% } %>
  <p>You left <strong><%= it.trigger.name %></strong> in your cart.</p>
  <% if (it.has("products")) { %><table class="grid"><tr>
  <% it.products.forEach(function (product, index) { %><% if (index === 3) { %></tr><tr><% } %>
    <td><a href="<%= product.url %>"><img src="<%= product.image_url %>" alt="<%= product.name %>" width="160"></a>
    <p><%= product.name %></p><p class="price"><%= it.money(product.price, product.currency, it.locale) %></p>
    <a class="button" href="<%= product.url %>">View</a></td>
  <% }) %></tr></table><% } else { %><%= it.fallback("products") %><% } %>
  <div class="footer">Sent to <%= it.email %> · <%= it.date(it.now, it.locale) %> · <%= it.plural(it.products.length, "item", "items") %></div>
</td></tr></table></body></html>`;

const TEMPLATE: EmailTemplate = {
  templateId: 'bench-cart',
  version: 1,
  subject: '<%= it.first_name %>, <%= it.trigger.name %> is waiting',
  html: inlineCss(SOURCE),
  text: 'Hello <%= it.first_name %>, you left <%= it.trigger.name %> in your cart.',
  data: [
    { path: 'first_name', type: 'string', fallback: { default: 'there' } },
    { path: 'trigger.name', type: 'string', fallback: { default: 'an item' } },
    { path: 'computed.rfm_segment', type: 'string', fallback: { default: 'new' } },
    { path: 'products', type: 'list', fallback: { block: '<p>Our bestsellers are waiting.</p>' } },
    { path: 'email', type: 'string', required: true },
  ],
};

function input(i: number): RenderInput {
  return {
    traits: {
      first_name: `Ada ${i}`,
      email: `ada${i}@example.com`,
      locale: 'en-GB',
      now: '2026-11-28T10:00:00Z',
    },
    computed: { rfm_segment: i % 3 === 0 ? 'champions' : i % 3 === 1 ? 'at_risk' : 'loyal' },
    products: Array.from({ length: 6 }, (_, p) => ({
      product_id: `sku-${p}`,
      name: `Product ${p} <b>`,
      price: 10 + p * 7.5,
      currency: 'EUR',
      url: `https://shop.example/p/${p}?ref=${i}`,
      image_url: `https://cdn.example/p/${p}.jpg`,
    })),
    trigger: { name: 'Laptop 13', product_id: 'sku-laptop' },
    event: 'Product Added',
    campaign: { id: 'bench', name: 'Bench' },
  };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

async function main(): Promise<void> {
  // Bare Eta: the same inlined template, escaped output, the same helpers on the data.
  const eta = new Eta({ autoEscape: true, autoTrim: false, useWith: false, varName: 'it' });
  const bare = {
    subject: eta.compile(TEMPLATE.subject),
    html: eta.compile(TEMPLATE.html),
    text: eta.compile(TEMPLATE.text),
  };
  const bareData = (i: number) => {
    const data = templateData(input(i));
    data.has = () => true;
    return data;
  };
  for (let i = 0; i < 500; i++) eta.render(bare.html, bareData(i));
  let cpu = process.cpuUsage();
  let started = performance.now();
  let bytes = 0;
  for (let i = 0; i < RENDERS; i++) {
    const data = bareData(i);
    eta.render(bare.subject, data);
    bytes += eta.render(bare.html, data).length;
    eta.render(bare.text, data);
  }
  const bareCpu = cpuSeconds(cpu);
  const bareWall = (performance.now() - started) / 1000;

  // The service's engine and guards on this thread, without the pool.
  const engine = new TemplateEngine();
  for (let i = 0; i < 500; i++) renderOutcome(engine, TEMPLATE, input(i));
  cpu = process.cpuUsage();
  for (let i = 0; i < RENDERS; i++) {
    if (!renderOutcome(engine, TEMPLATE, input(i)).ok) throw new Error('the engine failed a render');
  }
  const engineCpu = cpuSeconds(cpu);

  // A version without a text part, on the engine: the text template made once at publish against
  // converting every rendered html with html-to-text (as versions published before did).
  const noText = { ...TEMPLATE, version: 2, text: '' };
  const madeText = textTemplateFromHtml(noText.html);
  if (madeText === undefined) throw new Error('the bench template should get a text template');
  const textRows = {
    madeAtPublish: { ...noText, version: 3, text: madeText, textFromHtml: true as const },
    perRender: noText,
  };
  const textCounts = Math.max(200, Math.round(RENDERS / 20));
  const withoutTextPart: Record<string, number> = {};
  for (const [name, version] of Object.entries(textRows)) {
    for (let i = 0; i < 50; i++) renderOutcome(engine, version, input(i));
    cpu = process.cpuUsage();
    for (let i = 0; i < textCounts; i++) renderOutcome(engine, version, input(i));
    withoutTextPart[name] = Math.round(textCounts / cpuSeconds(cpu));
  }

  // Bare Eta behind a thread hop: batches of 32 renders, two batches in flight, one thread.
  const isolated = new Worker(new URL('./bare-eta.worker.js', import.meta.url), {
    workerData: { subject: TEMPLATE.subject, html: TEMPLATE.html, text: TEMPLATE.text },
  });
  const answers: ((parts: unknown) => void)[] = [];
  isolated.on('message', (parts) => answers.shift()!(parts));
  const isolatedBatch = (first: number) =>
    new Promise((resolve) => {
      answers.push(resolve);
      isolated.postMessage(JSON.stringify(Array.from({ length: 32 }, (_, i) => input(first * 32 + i))));
    });
  await windowed(50, 2, isolatedBatch);
  cpu = process.cpuUsage();
  await windowed(Math.ceil(RENDERS / 32), 2, isolatedBatch);
  const isolatedCpu = cpuSeconds(cpu);
  await isolated.terminate();

  const env = Object.assign(new RendererEnv(), { RENDER_WORKERS: 1, RENDER_TIMEOUT_MS: 30_000 });
  const pool = new RenderPool(env);
  await windowed(500, IN_FLIGHT, (i) => pool.render(TEMPLATE, input(i)));
  // Latency of one render alone (round trip to the worker), then throughput with renders in flight.
  const alone: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const t = performance.now();
    await pool.render(TEMPLATE, input(i));
    alone.push(performance.now() - t);
  }
  const loaded: number[] = [];
  let failures = 0;
  cpu = process.cpuUsage();
  started = performance.now();
  await windowed(RENDERS, IN_FLIGHT, async (i) => {
    const t = performance.now();
    const outcome = await pool.render(TEMPLATE, input(i));
    loaded.push(performance.now() - t);
    if (!outcome.ok) failures++;
  });
  const serviceCpu = cpuSeconds(cpu);
  const serviceWall = (performance.now() - started) / 1000;
  await pool.onModuleDestroy();

  const barePerCore = RENDERS / bareCpu;
  const servicePerCore = RENDERS / serviceCpu;
  const round = (n: number) => Math.round(n * 1000) / 1000;
  console.log(
    JSON.stringify(
      {
        loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
        renders: RENDERS,
        inFlight: IN_FLIGHT,
        htmlBytes: Math.round(bytes / RENDERS),
        bareEta: {
          rendersPerCpuSecond: Math.round(barePerCore),
          rendersPerWallSecond: Math.round(RENDERS / bareWall),
        },
        bareEtaInAWorkerThread: {
          rendersPerCpuSecond: Math.round((Math.ceil(RENDERS / 32) * 32) / isolatedCpu),
        },
        engineWithoutPool: {
          rendersPerCpuSecond: Math.round(RENDERS / engineCpu),
          withoutTextPartRendersPerCpuSecond: withoutTextPart,
        },
        service: {
          rendersPerCpuSecond: Math.round(servicePerCore),
          rendersPerWallSecond: Math.round(RENDERS / serviceWall),
          failures,
          p99AloneMs: round(percentiles(alone).p99),
          p50AloneMs: round(percentiles(alone).p50),
          p99InFlightMs: round(percentiles(loaded).p99),
        },
        ratioPerCore: round(servicePerCore / barePerCore),
        ratioPerCoreAgainstBareEtaInAWorkerThread: round(
          servicePerCore / ((Math.ceil(RENDERS / 32) * 32) / isolatedCpu),
        ),
        target: { rendersPerCore: 5000, ratio: 0.8 },
      },
      null,
      2,
    ),
  );
  if (failures > 0) process.exitCode = 1;
}

await main();
