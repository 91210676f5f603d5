import { inlineCss } from './css-inlining.js';
import { neutralizeUnsafeUrls, textFromHtml, textTemplateFromHtml } from './email-output.js';
import { FALLBACK_HELPERS } from './data-fallbacks.js';
import { TemplateEngine } from './template-engine.js';
import { TEMPLATE_HELPERS } from './template-helpers.js';

describe('email-ready output', () => {
  it('inlines CSS into the template source and keeps Eta tags, media queries aside', () => {
    const source =
      '<style>p { color: red } @media (max-width: 600px) { p { color: blue } }</style>' +
      '<p class="x"><%= it.first_name %></p><% if (it.has("products")) { %><a href="<%= it.url %>">go</a><% } %>';
    const inlined = inlineCss(source);
    expect(inlined).toContain('<p class="x" style="color: red;"><%= it.first_name %></p>');
    expect(inlined).toContain('<% if (it.has("products")) { %><a href="<%= it.url %>">go</a><% } %>');
    expect(inlined).toContain('@media (max-width: 600px)');
  });

  it('neutralizes javascript:, vbscript: and data: URLs, however they are spelled', () => {
    const html = [
      '<a href="javascript:alert(1)">a</a>',
      "<a href=' JaVaScRiPt:alert(1)'>b</a>",
      '<a href="&#106;avascript&colon;alert(1)">c</a>',
      '<a href="java\tscript:alert(1)">d</a>',
      '<img src="data:text/html;base64,PHNjcmlwdD4=">',
      '<a href=vbscript:x>e</a>',
      '<a href="https://shop.example/?q=javascript:">ok</a>',
      '<a href="mailto:help@shop.example">ok</a>',
    ].join('');
    const { html: safe, neutralized } = neutralizeUnsafeUrls(html);
    expect(neutralized).toBe(6);
    expect(safe).not.toMatch(/javascript:alert|data:text|vbscript/i);
    expect(safe).toContain('<a href="#">a</a>');
    expect(safe).toContain('<img src="#">');
    expect(safe).toContain('<a href="https://shop.example/?q=javascript:">ok</a>');
    expect(safe).toContain('<a href="mailto:help@shop.example">ok</a>');
  });

  it('finds each unsafe URL alone among plain links (the quick scan misses none)', () => {
    const plain =
      '<p style="color: red"><a href="https://shop.example/a">a</a> <img src = "/i.png"> <a href=\'#top\'>t</a>' +
      '<a href="?q=1">q</a><a href="">e</a><a href="mailto:x@shop.example">m</a></p>';
    expect(neutralizeUnsafeUrls(plain)).toEqual({ html: plain, neutralized: 0 });
    for (const unsafe of [
      '<a href="javascript:alert(1)">x</a>',
      "<a href=' JaVaScRiPt:alert(1)'>x</a>",
      '<a href="&#106;avascript&colon;alert(1)">x</a>',
      '<a href="java\tscript:alert(1)">x</a>',
      '<a href=\n  "\tjavascript:alert(1)">x</a>',
      '<img src="data:text/html;base64,PHNjcmlwdD4=">',
      '<a href=vbscript:x>x</a>',
      '<a HREF=JAVASCRIPT:x>x</a>',
      '<table background="javascript:x">',
    ]) {
      const { html, neutralized } = neutralizeUnsafeUrls(plain + unsafe + plain);
      expect({ unsafe, neutralized }).toEqual({ unsafe, neutralized: 1 });
      expect(html).not.toMatch(/javascript|vbscript|data:|&#/i);
      expect(html.startsWith(plain) && html.endsWith(plain)).toBe(true);
    }
  });

  it('makes a text part template from an html template once, rendering as the rendered html would convert', () => {
    const engine = new TemplateEngine();
    const html =
      '<style>p { color: red }</style><h2>Hello</h2><p>Hi <%= it.first_name %>,</p>' +
      '<% if (it.has("products")) { %><ul><% it.products.forEach(function (p) { %>' +
      '<li><a href="<%= p.url %>"><%= p.name %></a> <img src="<%= p.image_url %>"> <%= it.money(p.price, "EUR") %></li>' +
      '<% }) %></ul><% } else { %><%= it.fallback("products") %><% } %><p>Bye &amp; thanks</p>';
    const text = textTemplateFromHtml(html)!;
    expect(text).toContain('<%= it.first_name %>');
    expect(text).not.toContain('image_url');
    const version = {
      templateId: 'derived',
      version: 1,
      subject: 's',
      html,
      text: '',
      data: [
        { path: 'first_name', type: 'string' as const, fallback: { default: 'there' } },
        { path: 'products', type: 'list' as const, fallback: { block: '<p>Our bestsellers</p>' } },
      ],
    };
    expect(engine.check({ ...version, text })).toEqual([]);
    for (const products of [
      [],
      [{ name: 'Lamp', url: 'https://s.example/l', image_url: 'https://i', price: 5 }],
    ]) {
      const values = {
        traits: {},
        computed: {},
        products,
        first_name: 'Ada',
        ...TEMPLATE_HELPERS,
        ...FALLBACK_HELPERS,
      };
      const perRender = engine.render(version, { ...values }).text;
      const derived = engine.render({ ...version, version: 2, text, textFromHtml: true }, { ...values }).text;
      expect(derived).toBe(perRender);
    }
  });

  it('leaves the text to each render when the html cannot be turned into a text template safely', () => {
    expect(textTemplateFromHtml('<p><%= it.raw(it.block) %></p>')).toBeUndefined();
    // Code inside an image (skipped in text) would be lost.
    expect(textTemplateFromHtml('<img src="<% if (it.x) { %>a<% } %>"><p>x</p>')).toBeUndefined();
    // Entities must not become Eta tags.
    expect(textTemplateFromHtml('<p>&lt;% it.abort("X", "y") %&gt;</p>')).toBeUndefined();
    expect(textTemplateFromHtml('<p>QZ0ZQ</p>')).toBeUndefined();
  });

  it('makes a text part from html', () => {
    expect(
      textFromHtml(
        '<style>p{}</style><h1>Hi Ada</h1><p>Your <b>cart</b>: <a href="https://s.example/c">open it</a></p>',
      ),
    ).toBe('HI ADA\n\nYour cart: open it [https://s.example/c]');
  });
});
