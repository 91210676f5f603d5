import {
  type CampaignSpecDto,
  type EraseDonePayload,
  type Envelope,
  originEnvelope,
  parseEnvelope,
  type RecommendedSendPayload,
  type RenderedEmailPayload,
  type RenderFailedPayload,
  SUBJECTS,
} from '@mesh/contracts';
import { type MessagePublisher } from '@mesh/messaging';
import {
  consumerIsIdle,
  type MessageTap,
  publishCopy,
  readCollectionStats,
  readTopStatements,
  type ServiceUnderTest,
  startServiceUnderTest,
  subjectCounts,
  waitFor,
} from '@mesh/testing';
import { rendererSpec } from '../src/renderer.app.js';
import { TemplatesRepository } from '../src/templates/templates.repository.js';

const CONSUMER = { stream: 'RECOMMENDATION', durable: 'renderer__recommendation_attached' };

const DEMO_CART_REMINDER: CampaignSpecDto = {
  campaignId: 'demo-cart-reminder',
  name: 'Demo: you left something in your cart',
  templateId: 'demo-cart-reminder',
  recommendation: { strategy: 'popular', limit: 3 },
  sendPolicy: { maxPerDay: 0, transactional: false },
};

function recommendedSend(
  traits: Record<string, unknown>,
  campaign: CampaignSpecDto = DEMO_CART_REMINDER,
): Envelope<RecommendedSendPayload> {
  return originEnvelope({
    type: 'recommendations.attached',
    source: 'test-source',
    occurredAt: new Date().toISOString(),
    profileId: 'profile-ada',
    data: {
      campaign,
      triggerKey: 'cart:cart-1',
      trigger: {
        event: 'Product Added',
        properties: { product_id: 'sku-laptop', name: 'Laptop 13', cart_id: 'cart-1' },
      },
      profile: { profileId: 'profile-ada', traits, computed: {}, version: 4 },
      recommendations: {
        strategy: 'popular',
        modelVersion: 'popularity-v0',
        items: [
          { product_id: 'sku-bag', name: 'Laptop Bag', price: 59, currency: 'EUR' },
          { product_id: 'sku-cable' },
        ],
      },
    },
  });
}

describe('renderer: every recommended send becomes one rendered email or one failure', () => {
  let under: ServiceUnderTest;
  let natsUrl: string;
  let publisher: MessagePublisher;
  let tap: MessageTap;

  beforeAll(async () => {
    under = await startServiceUnderTest({
      name: 'renderer',
      spec: rendererSpec,
      tap: '>',
      env: {
        MESH_DEMO: 'true',
        RENDER_TIMEOUT_MS: '1000',
        RENDER_HTML_CLIP_BYTES: '4096',
        RENDER_OVERSIZE_HTML: 'fail',
        // Long enough that a test reading the latest version twice is never cut by the clock.
        RENDER_TEMPLATE_CACHE_MS: '60000',
      },
    });
    ({ natsUrl, publisher, tap } = under);
  }, 60_000);
  afterAll(async () => {
    await under?.close();
  });

  const rendered = (input: Envelope) =>
    tap.nextCausedBy<RenderedEmailPayload>(SUBJECTS.renderer.rendered, input);
  const failed = (input: Envelope) => tap.nextCausedBy<RenderFailedPayload>(SUBJECTS.renderer.failed, input);
  const outputsOf = (input: Envelope, subject: string) => tap.causedBy(subject, input);
  const consumerSettled = () =>
    waitFor('the renderer to settle everything', () =>
      consumerIsIdle(natsUrl, CONSUMER.stream, CONSUMER.durable),
    );
  const stored = async (subject: string) => (await subjectCounts(natsUrl, 'RENDERER'))[subject] ?? 0;

  it('renders the demo cart reminder for the profile, with its name, the cart item and the recommendations', async () => {
    const send = recommendedSend({ email: 'ada@example.com', first_name: 'Ada', timezone: 'Europe/Paris' });

    await publisher.publish(SUBJECTS.recommendation.attached, send);
    const email = (await rendered(send)).envelope;

    expect(email.profileId).toBe('profile-ada');
    expect(email.correlationId).toBe(send.correlationId);
    expect(email.data).toMatchObject({
      campaign: DEMO_CART_REMINDER,
      triggerKey: 'cart:cart-1',
      template: { id: 'demo-cart-reminder', version: 2 },
      to: 'ada@example.com',
      subject: 'Ada, you left Laptop 13 in your cart',
      recipient: { timezone: 'Europe/Paris' },
    });
    expect(email.data.html).toContain('<p>Hello Ada,</p>');
    expect(email.data.html).toContain('<strong>Laptop 13</strong>');
    expect(email.data.html).toContain('<li>Laptop Bag — 59 EUR</li>');
    expect(email.data.html).toContain('<li>sku-cable</li>');
    expect(email.data.text).toContain('you left Laptop 13 in your cart.');
    expect(email.data.text).toContain('- Laptop Bag\n');
    expect(email.data.fallbacks).toBeUndefined();
  });

  it('reports the declared fallbacks that fired: a default name and item, a static block for no products', async () => {
    const send = recommendedSend({ email: 'ada@example.com' });
    send.data.trigger.properties = {};
    send.data.recommendations.items = [];

    await publisher.publish(SUBJECTS.recommendation.attached, send);
    const email = (await rendered(send)).envelope;

    expect(email.data.subject).toBe('You left an item in your cart');
    expect(email.data.html).toContain('<p>Hello there,</p>');
    expect(email.data.html).toContain('<p>Our bestsellers are waiting for you at the shop.</p>');
    expect(email.data.html).not.toContain('<ul>');
    expect(email.data.text).toContain('Our bestsellers are waiting for you at the shop.');
    expect(email.data.fallbacks).toEqual([
      { field: 'first_name', kind: 'default' },
      { field: 'trigger.name', kind: 'default' },
      { field: 'products', kind: 'block' },
    ]);
    expect(parseEnvelope(SUBJECTS.renderer.rendered, email)).toMatchObject({ id: email.id });
  });

  it('escapes HTML that comes from a profile’s traits', async () => {
    const send = recommendedSend({
      email: 'mallory@example.com',
      first_name: '<script>alert("hi")</script>',
    });

    await publisher.publish(SUBJECTS.recommendation.attached, send);
    const email = (await rendered(send)).envelope;

    expect(email.data.html).toContain('Hello &lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;,');
    expect(email.data.html).not.toContain('<script>');
  });

  it('reports a profile without an email address as NO_RECIPIENT, once even when redelivered', async () => {
    const send = recommendedSend({ first_name: 'Nobody' });
    const before = await stored(SUBJECTS.renderer.failed);

    await publisher.publish(SUBJECTS.recommendation.attached, send);
    const failure = (await failed(send)).envelope;
    await consumerSettled();
    await publishCopy(natsUrl, SUBJECTS.recommendation.attached, send);
    await consumerSettled();

    expect(failure.data).toMatchObject({
      campaign: DEMO_CART_REMINDER,
      triggerKey: 'cart:cart-1',
      code: 'NO_RECIPIENT',
    });
    expect(outputsOf(send, SUBJECTS.renderer.failed)).toHaveLength(2);
    expect(await stored(SUBJECTS.renderer.failed)).toBe(before + 1);
    expect(outputsOf(send, SUBJECTS.renderer.rendered)).toEqual([]);
  });

  it('addresses the email to a trimmed email trait, and reports one that is not an address as NO_RECIPIENT', async () => {
    const untrimmed = recommendedSend({ email: '  ada@example.com ', first_name: 'Ada' });
    const invalid = recommendedSend({ email: 'n/a', first_name: 'Ada' });

    await publisher.publish(SUBJECTS.recommendation.attached, untrimmed);
    await publisher.publish(SUBJECTS.recommendation.attached, invalid);
    const email = (await rendered(untrimmed)).envelope;
    const failure = (await failed(invalid)).envelope;
    await consumerSettled();

    expect(email.data.to).toBe('ada@example.com');
    // What delivery will accept: the output honours its contract.
    expect(parseEnvelope(SUBJECTS.renderer.rendered, email)).toMatchObject({ id: email.id });
    expect(failure.data).toMatchObject({ code: 'NO_RECIPIENT' });
    expect(outputsOf(invalid, SUBJECTS.renderer.rendered)).toEqual([]);
  });

  it('reports a campaign whose template does not exist as TEMPLATE_NOT_FOUND', async () => {
    const send = recommendedSend(
      { email: 'ada@example.com', first_name: 'Ada' },
      { ...DEMO_CART_REMINDER, campaignId: 'spring-sale', templateId: 'spring-sale' },
    );

    await publisher.publish(SUBJECTS.recommendation.attached, send);
    const failure = (await failed(send)).envelope;
    await consumerSettled();

    expect(failure.data).toMatchObject({ triggerKey: 'cart:cart-1', code: 'TEMPLATE_NOT_FOUND' });
    expect(failure.data.reason).toContain('spring-sale');
    expect(outputsOf(send, SUBJECTS.renderer.rendered)).toEqual([]);
  });

  it('reports a template whose output breaks the email contract (an empty subject) as RENDER_ERROR', async () => {
    await under.db.collection('templates').insertOne({
      _id: 'nameless:1',
      templateId: 'nameless',
      version: 1,
      subject: '<%= it.first_name ?? "" %>',
      html: '<p>hi</p>',
      text: 'hi',
      publishedAt: new Date(),
      schemaVersion: 1,
    } as never);
    const send = recommendedSend(
      { email: 'ada@example.com' },
      { ...DEMO_CART_REMINDER, templateId: 'nameless' },
    );

    await publisher.publish(SUBJECTS.recommendation.attached, send);
    const failure = (await failed(send)).envelope;
    await consumerSettled();

    expect(failure.data).toMatchObject({ code: 'RENDER_ERROR' });
    expect(failure.data.reason).toContain('data.subject');
    expect(outputsOf(send, SUBJECTS.renderer.rendered)).toEqual([]);
  });

  const storeTemplate = (templateId: string, version: number, html: string) =>
    under.db.collection('templates').insertOne({
      _id: `${templateId}:${version}`,
      templateId,
      version,
      subject: `Version ${version} for <%= it.or(it.first_name, "you") %>`,
      html,
      text: 'hi',
      publishedAt: new Date(),
      schemaVersion: 1,
    } as never);

  it('renders the version a campaign names, and the latest one when it names none', async () => {
    await storeTemplate('versioned', 1, '<p>one</p>');
    await storeTemplate('versioned', 2, '<p>two</p>');
    const pinned = recommendedSend(
      { email: 'ada@example.com' },
      { ...DEMO_CART_REMINDER, templateId: 'versioned', templateVersion: 1 },
    );
    const latest = recommendedSend(
      { email: 'ada@example.com' },
      { ...DEMO_CART_REMINDER, templateId: 'versioned' },
    );
    const missing = recommendedSend(
      { email: 'ada@example.com' },
      { ...DEMO_CART_REMINDER, templateId: 'versioned', templateVersion: 7 },
    );

    await publisher.publish(SUBJECTS.recommendation.attached, pinned);
    await publisher.publish(SUBJECTS.recommendation.attached, latest);
    await publisher.publish(SUBJECTS.recommendation.attached, missing);

    expect((await rendered(pinned)).envelope.data).toMatchObject({
      template: { id: 'versioned', version: 1 },
      subject: 'Version 1 for you',
      html: '<p>one</p>',
    });
    expect((await rendered(latest)).envelope.data).toMatchObject({
      template: { id: 'versioned', version: 2 },
    });
    expect((await failed(missing)).envelope.data).toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
  });

  it('reports missing data as MISSING_DATA and a template’s own abort with its code, never an email', async () => {
    await storeTemplate('needs-name', 1, '<p>Hello <%= it.first_name %></p>');
    await storeTemplate(
      'needs-products',
      1,
      '<% if (it.products.length === 0) it.abort("NO_PRODUCTS", "nothing to recommend") %><ul></ul>',
    );
    const nameless = recommendedSend(
      { email: 'ada@example.com' },
      { ...DEMO_CART_REMINDER, templateId: 'needs-name' },
    );
    const productless = recommendedSend(
      { email: 'ada@example.com' },
      { ...DEMO_CART_REMINDER, templateId: 'needs-products' },
    );
    productless.data.recommendations.items = [];

    await publisher.publish(SUBJECTS.recommendation.attached, nameless);
    await publisher.publish(SUBJECTS.recommendation.attached, productless);

    expect((await failed(nameless)).envelope.data).toMatchObject({ code: 'MISSING_DATA' });
    expect((await failed(productless)).envelope.data).toMatchObject({
      code: 'NO_PRODUCTS',
      reason: 'nothing to recommend',
    });
    await consumerSettled();
    expect(outputsOf(nameless, SUBJECTS.renderer.rendered)).toEqual([]);
    expect(outputsOf(productless, SUBJECTS.renderer.rendered)).toEqual([]);
  });

  it('fails a template with an endless loop as TIMEOUT while other renders go on, and keeps serving', async () => {
    await storeTemplate('endless', 1, '<% while (true) {} %><p>never</p>');
    const endless = recommendedSend(
      { email: 'ada@example.com' },
      { ...DEMO_CART_REMINDER, templateId: 'endless' },
    );
    const meanwhile = recommendedSend({ email: 'grace@example.com', first_name: 'Grace' });
    const after = recommendedSend({ email: 'linus@example.com', first_name: 'Linus' });

    await publisher.publish(SUBJECTS.recommendation.attached, endless);
    await publisher.publish(SUBJECTS.recommendation.attached, meanwhile);
    expect((await rendered(meanwhile)).envelope.data.subject).toBe('Grace, you left Laptop 13 in your cart');
    const failure = (await failed(endless)).envelope;
    expect(failure.data).toMatchObject({ code: 'TIMEOUT' });
    expect(failure.data.reason).toContain('1000 ms');

    await publisher.publish(SUBJECTS.recommendation.attached, after);
    expect((await rendered(after)).envelope.data.subject).toBe('Linus, you left Laptop 13 in your cart');
    expect(outputsOf(endless, SUBJECTS.renderer.rendered)).toEqual([]);
  });

  describe('templates admin API', () => {
    const admin = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
      fetch(`${under.service.url}/api/templates${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${init.token ?? 'renderer-test-admin-token'}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    const draft = {
      subject: 'Welcome, <%= it.first_name %>',
      html: '<p>Welcome <%= it.first_name %></p>',
      text: 'Welcome',
      data: [{ path: 'first_name', type: 'string', fallback: { default: 'friend' } }],
    };

    it('refuses requests without the admin token', async () => {
      expect((await admin('', { token: 'wrong' })).status).toBe(401);
      expect((await fetch(`${under.service.url}/api/templates`)).status).toBe(401);
    });

    it('names the invalid field of a draft', async () => {
      const response = await admin('/welcome/versions', { method: 'POST', body: { ...draft, subject: '' } });
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toContain('subject');
      expect((await admin('/Not%20an%20id/versions', { method: 'POST', body: draft })).status).toBe(400);
    });

    it('sends nothing from a draft, and renders the version once it is published', async () => {
      const created = await admin('/welcome/versions', { method: 'POST', body: draft });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ templateId: 'welcome', version: 1, status: 'draft' });
      const campaign = { ...DEMO_CART_REMINDER, templateId: 'welcome' };
      const early = recommendedSend({ email: 'ada@example.com', first_name: 'Ada' }, campaign);
      await publisher.publish(SUBJECTS.recommendation.attached, early);
      expect((await failed(early)).envelope.data).toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });

      const published = await admin('/welcome/versions/1/publish', { method: 'POST' });
      expect(published.status).toBe(200);
      expect(await published.json()).toMatchObject({ version: 1, status: 'published' });
      const late = recommendedSend(
        { email: 'ada@example.com', first_name: 'Ada' },
        { ...campaign, name: 'later' },
      );
      await publisher.publish(SUBJECTS.recommendation.attached, late);
      expect((await rendered(late)).envelope.data).toMatchObject({
        template: { id: 'welcome', version: 1 },
        subject: 'Welcome, Ada',
        html: '<p>Welcome Ada</p>',
      });

      const second = await admin('/welcome/versions', { method: 'POST', body: { ...draft, text: 'v2' } });
      expect(await second.json()).toMatchObject({ version: 2, status: 'draft' });
      const list = (await (await admin('')).json()) as unknown[];
      expect(list).toContainEqual({ templateId: 'welcome', latestVersion: 2, publishedVersion: 1 });
    });

    it('reads a published version from MongoDB once, and uses a version published through the API at once', async () => {
      const send = (version?: number, name = `cached ${version ?? 'latest'} ${Math.random()}`) =>
        recommendedSend(
          { email: 'ada@example.com', first_name: 'Ada' },
          {
            ...DEMO_CART_REMINDER,
            name,
            templateId: 'cached',
            ...(version ? { templateVersion: version } : {}),
          },
        );
      await admin('/cached/versions', { method: 'POST', body: draft });
      expect((await admin('/cached/versions/1/publish', { method: 'POST' })).status).toBe(200);
      const first = send();
      await publisher.publish(SUBJECTS.recommendation.attached, first);
      expect((await rendered(first)).envelope.data).toMatchObject({ template: { id: 'cached', version: 1 } });

      // A new version published through the API is the latest at once, though v1 was just read.
      await admin('/cached/versions', {
        method: 'POST',
        body: { ...draft, html: '<p>Hi <%= it.first_name %></p>' },
      });
      expect((await admin('/cached/versions/2/publish', { method: 'POST' })).status).toBe(200);
      const second = send();
      await publisher.publish(SUBJECTS.recommendation.attached, second);
      expect((await rendered(second)).envelope.data).toMatchObject({
        template: { id: 'cached', version: 2 },
        html: '<p>Hi Ada</p>',
      });

      // Published versions never change: once read, sends of them no longer ask MongoDB.
      await under.db.collection('templates').deleteMany({ templateId: 'cached' });
      const pinned = send(1);
      const latest = send();
      await publisher.publish(SUBJECTS.recommendation.attached, pinned);
      await publisher.publish(SUBJECTS.recommendation.attached, latest);
      expect((await rendered(pinned)).envelope.data).toMatchObject({
        template: { id: 'cached', version: 1 },
      });
      expect((await rendered(latest)).envelope.data).toMatchObject({
        template: { id: 'cached', version: 2 },
      });
    });

    it('refuses to publish a version that does not compile or prints raw HTML with Eta’s raw tag', async () => {
      const broken = await admin('/broken/versions', {
        method: 'POST',
        body: { ...draft, html: '<% if (it.x { %>oops', text: '<%~ it.banner %>' },
      });
      expect(broken.status).toBe(201);
      const response = await admin('/broken/versions/1/publish', { method: 'POST' });
      expect(response.status).toBe(422);
      const body = (await response.json()) as { problems: string[] };
      expect(body.problems[0]).toMatch(/^html: /);
      expect(body.problems[1]).toMatch(/^text line 1: .*raw tag/);
      expect(await (await admin('/broken/versions/1')).json()).toMatchObject({ status: 'draft' });
      expect((await admin('/broken/versions/9/publish', { method: 'POST' })).status).toBe(404);
    });

    it('inlines the CSS once at publish, makes the text part from the html, and refuses html Gmail would clip', async () => {
      const styled = {
        subject: 'Styled',
        html: '<style>p { color: #c00 }</style><p>Hi <%= it.first_name %></p><% if (it.has("products")) { %><%= "x".repeat(5000) %><% } %>',
        data: [...draft.data, { path: 'products', type: 'list', fallback: { block: '<p>bestsellers</p>' } }],
      };
      styled.html += '<%= it.fallback("products") %>';
      expect((await admin('/styled/versions', { method: 'POST', body: styled })).status).toBe(201);
      expect((await admin('/styled/versions/1/publish', { method: 'POST' })).status).toBe(200);
      const campaign = { ...DEMO_CART_REMINDER, templateId: 'styled' };
      const small = recommendedSend({ email: 'ada@example.com', first_name: 'Ada' }, campaign);
      small.data.recommendations.items = [];
      const large = recommendedSend(
        { email: 'ada@example.com', first_name: 'Ada' },
        { ...campaign, name: 'large' },
      );

      await publisher.publish(SUBJECTS.recommendation.attached, small);
      await publisher.publish(SUBJECTS.recommendation.attached, large);

      const email = (await rendered(small)).envelope.data;
      expect(email.html).toBe('<p style="color: #c00;">Hi Ada</p><p>bestsellers</p>');
      expect(email.text).toBe('Hi Ada\n\nbestsellers');
      // The text part was made once, at publish, from the html template: renders do not convert html.
      const stored = await under.db
        .collection<{ _id: string; published?: { text: string; textFromHtml?: boolean } }>('templates')
        .findOne({ _id: 'styled:1' });
      expect(stored?.published?.textFromHtml).toBe(true);
      expect(stored?.published?.text).toContain('<%= it.first_name %>');
      expect(email.fallbacks).toEqual([{ field: 'products', kind: 'block' }]);
      const failure = (await failed(large)).envelope.data;
      expect(failure.code).toBe('HTML_TOO_LARGE');
      expect(failure.reason).toContain('4096');
    });

    it('builds a version from a layout and partials registered by name, as they were at publish', async () => {
      const put = (name: string, source: string) =>
        admin(`/../partials/${name}`, { method: 'PUT', body: { source } });
      expect((await put('base', '<div class="frame">{{> body }}{{> footer }}</div>')).status).toBe(200);
      expect(await (await put('footer', '<p>Sent by <%= it.campaign.id %></p>')).json()).toMatchObject({
        name: 'footer',
        version: 1,
      });
      const created = await admin('/framed/versions', {
        method: 'POST',
        body: { ...draft, layout: 'base', text: 'Hi <%= it.first_name %>' },
      });
      expect(created.status).toBe(201);
      const published = await admin('/framed/versions/1/publish', { method: 'POST' });
      expect(published.status).toBe(200);
      expect(await published.json()).toMatchObject({ partials: { base: 1, footer: 1 } });
      await put('footer', '<p>changed</p>');

      const send = recommendedSend(
        { email: 'ada@example.com', first_name: 'Ada' },
        { ...DEMO_CART_REMINDER, templateId: 'framed' },
      );
      await publisher.publish(SUBJECTS.recommendation.attached, send);
      expect((await rendered(send)).envelope.data.html).toBe(
        '<div class="frame"><p>Welcome Ada</p><p>Sent by demo-cart-reminder</p></div>',
      );

      await admin('/unframed/versions', {
        method: 'POST',
        body: { ...draft, html: '<p>x</p>\n{{> nope }}' },
      });
      const refused = await admin('/unframed/versions/1/publish', { method: 'POST' });
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({
        problems: ['html line 2: the partial "nope" is not registered'],
      });

      // A draft previews as it would be sent: layout and partials as they are now, CSS inlined.
      const previewDraft = (templateId: string) =>
        admin(`/${templateId}/preview`, {
          method: 'POST',
          body: { version: templateId === 'framed' ? 2 : 1, sample: { traits: { first_name: 'Bo' } } },
        });
      await admin('/framed/versions', {
        method: 'POST',
        body: {
          ...draft,
          layout: 'base',
          html: '<style>p { color: red; }</style><p>Draft <%= it.first_name %></p>',
        },
      });
      const drafted = await previewDraft('framed');
      expect(drafted.status).toBe(200);
      expect(((await drafted.json()) as { html: string }).html).toBe(
        '<div class="frame"><p style="color: red;">Draft Bo</p><p style="color: red;">changed</p></div>',
      );
      await put('footer', '<p>changed again</p>');
      expect(((await (await previewDraft('framed')).json()) as { html: string }).html).toContain(
        'changed again',
      );
      const unresolved = await previewDraft('unframed');
      expect(unresolved.status).toBe(422);
      expect(await unresolved.json()).toMatchObject({
        problems: ['html line 2: the partial "nope" is not registered'],
      });
    });

    it('previews a version for stored samples and sample data, with the fallbacks that fired, and serves the page', async () => {
      const save = (sampleId: string, body: unknown) =>
        admin(`/../preview-samples/${sampleId}`, { method: 'PUT', body });
      expect(
        (
          await save('ada', {
            profileId: 'profile-ada',
            traits: { first_name: 'Ada', email: 'ada@example.com' },
          })
        ).status,
      ).toBe(200);
      expect((await save('Bad Id', { traits: {} })).status).toBe(400);

      const preview = (body: unknown) =>
        admin('/demo-cart-reminder/preview', { method: 'POST', body }).then(
          async (response) => [response.status, await response.json()] as const,
        );
      const [status, ada] = await preview({ sampleId: 'ada' });
      expect(status).toBe(200);
      expect(ada).toMatchObject({
        ok: true,
        templateId: 'demo-cart-reminder',
        version: 2,
        subject: 'Ada, you left an item in your cart',
        fallbacks: [
          { field: 'trigger.name', kind: 'default' },
          { field: 'products', kind: 'block' },
        ],
      });
      const [, sample] = await preview({
        sample: { traits: { first_name: 'Bo' }, products: [{ name: 'Bag' }], trigger: { name: 'Lamp' } },
      });
      expect(sample).toMatchObject({ ok: true, subject: 'Bo, you left Lamp in your cart', fallbacks: [] });
      expect((await preview({ sampleId: 'nobody' }))[0]).toBe(404);

      // A profile id previews the sample stored for that profile (renderer reads no profiles).
      const [, byProfile] = await preview({ profileId: 'profile-ada' });
      expect(byProfile).toMatchObject({ ok: true, subject: 'Ada, you left an item in your cart' });
      const [unknownStatus, unknown] = await preview({ profileId: 'profile-nobody' });
      expect(unknownStatus).toBe(404);
      expect((unknown as { message: string }).message).toContain(
        'no preview sample stored for profile "profile-nobody"',
      );
      const [bothStatus, both] = await preview({ profileId: 'profile-ada', sampleId: 'ada' });
      expect(bothStatus).toBe(400);
      expect((both as { message: string }).message).toContain('sampleId and profileId');
      expect((await fetch(`${under.service.url}/api/preview-samples`)).status).toBe(401);

      const page = await fetch(`${under.service.url}/preview`);
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).toContain('/api/templates/');
      expect(html).toContain('[600, 375]');
      expect(html).toContain('{ profileId }');
    });

    it('erases the preview samples of a profile on request and confirms once, even when redelivered', async () => {
      await admin('/../preview-samples/grace', {
        method: 'PUT',
        body: { profileId: 'profile-grace', traits: { first_name: 'Grace' } },
      });
      await admin('/../preview-samples/grace-by-mail', {
        method: 'PUT',
        body: { traits: { first_name: 'Grace', email: 'Grace@Example.com' } },
      });
      const request = originEnvelope({
        type: 'privacy.erase.requested',
        source: 'test-source',
        occurredAt: new Date().toISOString(),
        profileId: 'profile-grace',
        data: {
          requestId: 'erase-grace',
          identifiers: [{ type: 'email' as const, value: 'grace@example.com' }],
        },
      });
      const before = await subjectCounts(natsUrl, 'PRIVACY');

      await publisher.publish(SUBJECTS.privacy.eraseRequested, request);
      const receipt = await tap.nextCausedBy<EraseDonePayload>(
        SUBJECTS.privacy.eraseDone('renderer'),
        request,
      );
      expect(receipt.envelope.data).toMatchObject({
        requestId: 'erase-grace',
        service: 'renderer',
        removed: { previewSamples: 2 },
      });
      expect(
        await under.db
          .collection('preview_samples')
          .countDocuments({ _id: { $in: ['grace', 'grace-by-mail'] } } as never),
      ).toBe(0);

      await publishCopy(natsUrl, SUBJECTS.privacy.eraseRequested, request);
      await waitFor(
        'the copy answered',
        () => tap.causedBy(SUBJECTS.privacy.eraseDone('renderer'), request).length === 2,
      );
      const receipts = tap.causedBy(SUBJECTS.privacy.eraseDone('renderer'), request);
      expect(receipts[1]!.envelope.id).toBe(receipts[0]!.envelope.id);
      const after = await subjectCounts(natsUrl, 'PRIVACY');
      const done = SUBJECTS.privacy.eraseDone('renderer');
      expect((after[done] ?? 0) - (before[done] ?? 0)).toBe(1);
    });

    it('refuses to publish a version that reads undeclared fields or leaves optional data without a fallback', async () => {
      const created = await admin('/undeclared/versions', {
        method: 'POST',
        body: {
          ...draft,
          html: '<p>Welcome <%= it.first_name %>,</p>\n<p><%= it.computed.rfm_segment %></p>',
          data: [...draft.data, { path: 'last_name', type: 'string' }],
        },
      });
      expect(created.status).toBe(201);
      const response = await admin('/undeclared/versions/1/publish', { method: 'POST' });
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({
        error: 'lint_failed',
        problems: [
          'data: the optional field last_name has no fallback (a default, a static block or an abort code)',
          "html line 2: it.computed.rfm_segment is not in the template's data schema",
        ],
      });
      const invalid = await admin('/undeclared/versions', {
        method: 'POST',
        body: { ...draft, data: [{ path: 'first name', type: 'text' }] },
      });
      expect(invalid.status).toBe(400);
      const message = JSON.stringify(await invalid.json());
      expect(message).toContain('path');
      expect(message).toContain('type');

      // Fields read through a loop variable are checked against the items the list declares.
      const looped = await admin('/undeclared/versions', {
        method: 'POST',
        body: {
          ...draft,
          html: '<% it.computed.offers.forEach(function (offer) { %>\n<p><%= offer.titel %></p><% }) %>',
          data: [
            ...draft.data,
            { path: 'computed.offers', type: 'list', items: ['title', 'code'], fallback: { default: '' } },
          ],
        },
      });
      expect(looped.status).toBe(201);
      const { version } = (await looped.json()) as { version: number };
      const refused = await admin(`/undeclared/versions/${version}/publish`, { method: 'POST' });
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({
        problems: [
          'html line 2: offer.titel is not a field of an item of it.computed.offers (items have title, code)',
        ],
      });
      const badItems = await admin('/undeclared/versions', {
        method: 'POST',
        body: {
          ...draft,
          data: [{ path: 'computed.offers', type: 'list', items: ['a.b'], fallback: { default: '' } }],
        },
      });
      expect(badItems.status).toBe(400);
      expect(JSON.stringify(await badItems.json())).toContain('items');
    });
  });

  it('keeps one rendered email when the same send is redelivered', async () => {
    const send = recommendedSend({ email: 'grace@example.com', first_name: 'Grace' });
    const before = await stored(SUBJECTS.renderer.rendered);

    await publisher.publish(SUBJECTS.recommendation.attached, send);
    const first = (await rendered(send)).envelope;
    await consumerSettled();
    await publishCopy(natsUrl, SUBJECTS.recommendation.attached, send);
    await consumerSettled();

    const outputs = outputsOf(send, SUBJECTS.renderer.rendered);
    expect(outputs).toHaveLength(2);
    expect(outputs[1]!.envelope).toEqual(first);
    expect(await stored(SUBJECTS.renderer.rendered)).toBe(before + 1);
  });
  it('reads the latest version of a template once for the renders asking together when its cache time is over', async () => {
    const templates = under.service.app.get(TemplatesRepository);
    const postgresUrl = under.infra.mongo!.postgresUrl;
    const readsOfTemplates = async () => {
      const table = (await readCollectionStats(postgresUrl)).find(
        (stats) => stats.collection === `${under.db.databaseName}.templates`,
      )!.table;
      return (await readTopStatements(postgresUrl, 10_000))
        .filter(
          (statement) =>
            statement.query.includes(table.split('.')[1]!) && /^\s*SELECT/i.test(statement.query),
        )
        .reduce((sum, statement) => sum + statement.calls, 0);
    };
    const before = await readsOfTemplates();
    const later = Date.now() + 120_000;
    const found = await Promise.all(
      Array.from({ length: 20 }, () => templates.findLatest(DEMO_CART_REMINDER.templateId, later)),
    );
    expect(new Set(found).size).toBe(1);
    expect(found[0]).toBeDefined();
    expect((await readsOfTemplates()) - before).toBe(1);
  });
});
