import { type EmailTemplate } from '../templates/email-template.js';
import { TemplateEngine } from './template-engine.js';
import { MissingDataError, RenderAbort, TEMPLATE_HELPERS } from './template-helpers.js';

let version = 0;
function template(html: string, parts: Partial<EmailTemplate> = {}): EmailTemplate {
  version += 1;
  return { templateId: 'spec', version, subject: 'Hi', html, text: 'hi', ...parts };
}

function data(values: Record<string, unknown> = {}): Record<string, unknown> {
  return { traits: {}, computed: {}, products: [], ...values, ...TEMPLATE_HELPERS };
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
    });
  });
});
