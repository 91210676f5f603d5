import { RecommendedItemDto } from '@mesh/contracts';
import { getMetadataStorage } from 'class-validator';
import { type EmailTemplate } from '../templates/email-template.js';
import { TemplateEngine } from './template-engine.js';
import { FALLBACK_HELPERS } from './data-fallbacks.js';
import { MissingDataError, RenderAbort, TEMPLATE_HELPERS } from './template-helpers.js';
import { RECOMMENDED_ITEM_FIELDS } from './template-lint.js';

let version = 0;
function template(html: string, parts: Partial<EmailTemplate> = {}): EmailTemplate {
  version += 1;
  return { templateId: 'spec', version, subject: 'Hi', html, text: 'hi', ...parts };
}

function data(values: Record<string, unknown> = {}): Record<string, unknown> {
  return { traits: {}, computed: {}, products: [], ...values, ...TEMPLATE_HELPERS, ...FALLBACK_HELPERS };
}

describe('TemplateEngine', () => {
  const engine = new TemplateEngine();
  const html = (source: string, values: Record<string, unknown> = {}) =>
    engine.render(template(source), data(values)).html;

  it('prints tokens from traits and computed attributes', () => {
    expect(
      html('<p><%= it.first_name %> likes <%= it.computed.purchased_category %></p>', {
        first_name: 'Ada',
        computed: { purchased_category: 'books' },
      }),
    ).toBe('<p>Ada likes books</p>');
  });

  it('chooses a block with IF/ELSE by purchased_category', () => {
    const source =
      '<% if (it.computed.purchased_category === "books") { %>Read on<% } else { %>Look around<% } %>';
    expect(html(source, { computed: { purchased_category: 'books' } })).toBe('Read on');
    expect(html(source, { computed: { purchased_category: 'shoes' } })).toBe('Look around');
    expect(html(source)).toBe('Look around');
  });

  it('loops over the recommended products', () => {
    const source = '<% it.products.forEach(function (p) { %><li><%= p.name %></li><% }) %>';
    expect(html(source, { products: [{ name: 'Bag' }, { name: 'Cable' }] })).toBe(
      '<li>Bag</li><li>Cable</li>',
    );
  });

  it('escapes hostile profile data in text and in attributes', () => {
    const source =
      '<a title="<%= it.first_name %>" href="https://shop.example/?q=<%= it.q %>"><%= it.first_name %></a>';
    const out = html(source, { first_name: '"><script>alert(1)</script>', q: "' onmouseover='x" });
    expect(out).not.toContain('<script>');
    expect(out).not.toMatch(/title="[^"]*"[^ >]/);
    expect(out).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" href="https://shop.example/?q=&#39; onmouseover=&#39;x">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</a>',
    );
  });

  it('prints reviewed HTML only through it.raw, and refuses Eta’s raw tag', () => {
    expect(html('<%= it.raw(it.banner) %>', { banner: '<b>Sale</b>' })).toBe('<b>Sale</b>');
    expect(() => html('<%~ it.banner %>', { banner: '<b>Sale</b>' })).toThrow(/raw tag/);
    expect(() => html('<%-~ it.banner %>', { banner: '<b>Sale</b>' })).toThrow(/raw tag/);
  });

  it('never prints undefined, null, NaN or an object: it fails the render instead', () => {
    expect(() => html('Hi <%= it.first_name %>')).toThrow(MissingDataError);
    expect(() => html('Hi <%= it.nothing %>', { nothing: null })).toThrow(MissingDataError);
    expect(() => html('<%= it.n / 0 - it.n / 0 %>', { n: 1 })).toThrow(MissingDataError);
    expect(() => html('<%= it.computed %>')).toThrow(/object/);
    // The last guard reads the finished output: the string was built inside the template.
    expect(() => html('<%= "x" + it.computed %>')).toThrow(/\[object Object\]/);
    expect(() => html('<%= "x" + it.missing %>')).toThrow(/undefined/);
    expect(() =>
      engine.render(template('<p>ok</p>', { subject: 'Hi <%= "" + it.first_name %>' }), data()),
    ).toThrow(/subject contains "undefined"/);
  });

  it('prints a default with it.or or ??', () => {
    expect(html('Hi <%= it.or(it.first_name, "there") %>')).toBe('Hi there');
    expect(html('Hi <%= it.or(it.first_name, "there") %>', { first_name: '  ' })).toBe('Hi there');
    expect(html('Hi <%= it.first_name ?? "there" %>', { first_name: 'Ada' })).toBe('Hi Ada');
  });

  it('aborts with the template’s reason code', () => {
    const source =
      '<% if (it.products.length === 0) it.abort("NO_PRODUCTS", "nothing to recommend") %><ul></ul>';
    try {
      html(source);
      throw new Error('expected an abort');
    } catch (error) {
      expect(error).toBeInstanceOf(RenderAbort);
      expect(error).toMatchObject({ code: 'NO_PRODUCTS', message: 'nothing to recommend' });
    }
  });

  it('formats money, dates and plurals', () => {
    expect(html('<%= it.money(59, "EUR", "de-DE") %>')).toBe('59,00&nbsp;€'.replace('&nbsp;', '\u00a0'));
    expect(html('<%= it.money("12.5", "USD") %>')).toBe('$12.50');
    expect(html('<%= it.money(12.5, "???") %>')).toBe('12.50');
    expect(() => html('<%= it.money(it.price, "USD") %>')).toThrow(MissingDataError);
    expect(html('<%= it.date("2026-11-28T10:00:00Z", "en-GB") %>')).toBe('28 November 2026');
    expect(() => html('<%= it.date(it.when) %>')).toThrow(MissingDataError);
    expect(html('<%= it.plural(1, "item", "items") %>, <%= it.plural(3, "item", "items") %>')).toBe(
      '1 item, 3 items',
    );
  });

  it('keeps one formatter per locale and currency or time zone (formatters are cached)', () => {
    const source =
      '<%= it.money(5, "EUR", "de-DE") %>|<%= it.money(5, "USD", "en-US") %>|<%= it.money(5, "EUR", "en-US") %>|' +
      '<%= it.date("2026-11-28T23:30:00Z", "en-GB") %>|<%= it.date("2026-11-28T23:30:00Z", "en-GB", "Asia/Tokyo") %>|' +
      '<%= it.date("2026-11-28T23:30:00Z", "de-DE", "nowhere/else") %>';
    const expected = '5,00\u00a0€|$5.00|€5.00|28 November 2026|29 November 2026|2026-11-28';
    expect(html(source)).toBe(expected);
    expect(html(source)).toBe(expected);
  });

  it('renders text and subject without HTML escaping but with the same guard', () => {
    const parts = engine.render(
      template('<p><%= it.name %></p>', {
        subject: ' Tom &  Jerry,\n <%= it.name %> ',
        text: '<%= it.name %>',
      }),
      data({ name: 'R&D <team>' }),
    );
    expect(parts).toEqual({
      subject: 'Tom & Jerry, R&D <team>',
      html: '<p>R&amp;D &lt;team&gt;</p>',
      text: 'R&D <team>',
      fallbacks: [],
    });
  });
});

describe('declared data and fallbacks', () => {
  const engine = new TemplateEngine();
  const withData = (parts: Partial<EmailTemplate>) => template(parts.html ?? '<p>ok</p>', parts);

  it('prints a declared default and reports it as fired', () => {
    const version = withData({
      subject: 'Hi <%= it.first_name %>',
      html: '<p><%= it.computed.rfm_segment %></p>',
      data: [
        { path: 'first_name', type: 'string', fallback: { default: 'there' } },
        { path: 'computed.rfm_segment', type: 'string', fallback: { default: 'friend' } },
      ],
    });
    const computed = {};
    const result = engine.render(version, data({ computed }));
    expect(result).toMatchObject({ subject: 'Hi there', html: '<p>friend</p>' });
    expect(result.fallbacks).toEqual([
      { field: 'first_name', kind: 'default' },
      { field: 'computed.rfm_segment', kind: 'default' },
    ]);
    expect(computed).toEqual({});
    const present = engine.render(version, data({ first_name: 'Ada', computed: { rfm_segment: 'vip' } }));
    expect(present).toMatchObject({ subject: 'Hi Ada', html: '<p>vip</p>', fallbacks: [] });
  });

  it('places a static block, as HTML and as text, when a list is empty', () => {
    const version = withData({
      html: '<% if (it.has("products")) { %><ul></ul><% } else { %><%= it.fallback("products") %><% } %>',
      text: '<%= it.fallback("products") %>',
      data: [
        { path: 'products', type: 'list', fallback: { block: '<p>Our <b>bestsellers</b> &amp; more</p>' } },
      ],
    });
    const result = engine.render(version, data({ products: [] }));
    expect(result).toMatchObject({
      html: '<p>Our <b>bestsellers</b> &amp; more</p>',
      text: 'Our bestsellers & more',
      fallbacks: [{ field: 'products', kind: 'block' }],
    });
    expect(engine.render(version, data({ products: [{ name: 'Bag' }] }))).toMatchObject({
      html: '<ul></ul>',
      text: '',
      fallbacks: [],
    });
  });

  it('aborts with the declared reason code, and fails a missing required field as MISSING_DATA', () => {
    const version = withData({
      html: '<p><%= it.computed.purchased_category %> <%= it.first_name %></p>',
      data: [
        { path: 'first_name', type: 'string', required: true },
        {
          path: 'computed.purchased_category',
          type: 'string',
          fallback: { abort: 'NO_CATEGORY', reason: 'no category bought yet' },
        },
      ],
    });
    expect(() => engine.render(version, data({ first_name: 'Ada' }))).toThrow(
      expect.objectContaining({ code: 'NO_CATEGORY', message: 'no category bought yet' }) as Error,
    );
    expect(() => engine.render(version, data({ computed: { purchased_category: 'books' } }))).toThrow(
      MissingDataError,
    );
    // A value of the wrong type counts as missing: a number is no list of products.
    expect(() =>
      engine.render(
        withData({
          data: [{ path: 'products', type: 'list', fallback: { abort: 'NO_PRODUCTS' } }],
        }),
        data({ products: 3 }),
      ),
    ).toThrow(RenderAbort);
  });

  it('lints at publish: unknown fields with their line, optional data without fallback, unplaced blocks', () => {
    const problems = engine.check(
      withData({
        subject: 'Hi <%= it.first_name %>',
        html: '<p>\n<%= it.or(it.nickname, "you") %>\n<% if (it.products.length) { %>x<% } %>\n</p>',
        text: 'Nothing about it.here outside tags',
        data: [
          { path: 'first_name', type: 'string', fallback: { default: 'there' } },
          { path: 'products', type: 'list', fallback: { block: '<p>bestsellers</p>' } },
          { path: 'computed.rfm_segment', type: 'string' },
        ],
      }),
    );
    expect(problems).toEqual([
      'data: the static fallback block of products is never placed with it.fallback("products")',
      'data: the optional field computed.rfm_segment has no fallback (a default, a static block or an abort code)',
      "html line 2: it.nickname is not in the template's data schema",
    ]);
    expect(
      engine.check(
        withData({
          html: '<p>\n\n<% if (it.x { %></p>',
          data: [{ path: 'x', type: 'string', required: true }],
        }),
      )[0],
    ).toMatch(/^html: /);
    expect(engine.check(withData({ html: '<%= it.fallback("nope") %>' }))).toEqual([
      'html line 1: it.fallback("nope") names no field with a static fallback block',
    ]);
  });
});

describe('lint of fields read through loop variables', () => {
  const engine = new TemplateEngine();
  const products = { path: 'products', type: 'list' as const, fallback: { block: '<p>bestsellers</p>' } };
  const check = (html: string, data: EmailTemplate['data'] = [products]) =>
    engine.check(template(`${html}<%= it.fallback("products") %>`, { subject: 'Hi', text: 'hi', data }));

  it('names a misspelt product field, whatever the loop looks like', () => {
    const problem = (line: number, read: string) =>
      `html line ${line}: ${read} is not a field of an item of it.products (items have product_id, sku, category, name, brand, price, currency, quantity, url, image_url, score, reason)`;
    expect(check('<% it.products.forEach(p => { %><%= p.nmae %><% }) %>')).toEqual([problem(1, 'p.nmae')]);
    expect(
      check(
        '<ul>\n<% it.products.slice(0, 3).forEach(function (product, index) { %>\n' +
          '<li><%= product.name %> <%= it.money(product.prise, product.currency) %></li>\n<% }) %></ul>',
      ),
    ).toEqual([problem(3, 'product.prise')]);
    expect(check('<% for (const item of it.products) { %><%= item.titel %><% } %>')).toEqual([
      problem(1, 'item.titel'),
    ]);
    expect(check('<%= it.products.map((p) => p.name + p?.brnd).join(", ") %>')).toEqual([
      problem(1, 'p.brnd'),
    ]);
    expect(check('<% it.products.forEach(({ name, colour }) => { %><%= name %><% }) %>')).toEqual([
      problem(1, '{ colour }'),
    ]);
  });

  it('accepts the fields items have, and stops following a name bound again', () => {
    expect(
      check(
        '<% it.products.forEach(function (p) { %><a href="<%= p.url %>"><%= p.name %> <%= p.price %></a><% }) %>' +
          '<p>p.nmae outside tags is text</p>' +
          '<% const p = { nmae: "x" } %><%= p.nmae %>' +
          '<% [1, 2].forEach((product) => { %><%= product.toFixed(1) %><% }) %>',
      ),
    ).toEqual([]);
  });

  it('checks the items a list field declares, and only lists may declare them', () => {
    const offers = {
      path: 'computed.offers',
      type: 'list' as const,
      items: ['title', 'code'],
      fallback: { default: '' },
    };
    expect(
      check('<% it.computed.offers.forEach((o) => { %><%= o.title %><%= o.cod %><% }) %>', [
        products,
        offers,
      ]),
    ).toEqual([
      'html line 1: o.cod is not a field of an item of it.computed.offers (items have title, code)',
    ]);
    // A list whose items are not declared is not followed.
    expect(
      check('<% it.computed.tags.forEach((t) => { %><%= t.whatever %><% }) %>', [
        products,
        { path: 'computed.tags', type: 'list', fallback: { default: '' } },
      ]),
    ).toEqual([]);
    expect(
      check('', [
        products,
        { path: 'first_name', type: 'string', items: ['x'], fallback: { default: 'you' } },
      ]),
    ).toEqual(['data: first_name declares items but is not a list']);
  });

  it('knows the fields of a recommended item from the contracts', () => {
    const declared = getMetadataStorage()
      .getTargetValidationMetadatas(RecommendedItemDto, '', true, false)
      .map((metadata) => metadata.propertyName);
    expect(new Set(RECOMMENDED_ITEM_FIELDS)).toEqual(new Set(declared));
  });
});

describe('email-ready renders', () => {
  const engine = new TemplateEngine();

  it('blocks a javascript: link that profile data would put into an href', () => {
    const version = template('<a href="<%= it.url %>">open</a>', {
      data: [{ path: 'url', type: 'string', required: true }],
    });
    expect(engine.render(version, data({ url: 'javascript:alert(document.cookie)' })).html).toBe(
      '<a href="#">open</a>',
    );
    expect(engine.render(version, data({ url: 'https://shop.example/' })).html).toBe(
      '<a href="https://shop.example/">open</a>',
    );
  });

  it('makes the text part from the rendered html when the version has none', () => {
    const version = template('<p>Hello <%= it.first_name %></p>', {
      text: '',
      data: [{ path: 'first_name', type: 'string', fallback: { default: 'there' } }],
    });
    expect(engine.render(version, data({ first_name: 'Ada' })).text).toBe('Hello Ada');
  });
});
