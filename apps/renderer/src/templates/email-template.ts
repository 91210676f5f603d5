import { createHash } from 'node:crypto';
import { type DataField } from './data-schema.js';

/** One version of an email template; its parts are Eta templates over `it`. */
export interface EmailTemplate {
  templateId: string;
  version: number;
  subject: string;
  html: string;
  text: string;
  /** The data the version reads and what happens when it is missing; checked at publish. */
  data?: DataField[];
  /** A layout registered by name; its `{{> body }}` takes the html. Resolved at publish. */
  layout?: string;
  /**
   * Set on a draft read for a preview: its parts are resolved for that preview (partials as they are
   * then, CSS inlined), so it is compiled and cached apart from the same version once published.
   */
  draft?: true;
  /** The text part was made from the html at publish (textTemplateFromHtml): its blank lines are tidied. */
  textFromHtml?: true;
}

/**
 * The key a version's compiled parts are cached under (in every render thread): a published version
 * never changes; a draft's parts differ from the same version's published parts, and from one preview
 * to the next when a partial it includes changed, so a draft's key names its parts' content.
 */
export function renderKeyOf(template: EmailTemplate): string {
  const key = `${template.templateId}:${template.version}`;
  if (!template.draft) return key;
  const content = createHash('sha256')
    .update(JSON.stringify([template.subject, template.html, template.text, template.data ?? null]))
    .digest('base64url')
    .slice(0, 16);
  return `${key}:draft:${content}`;
}

/** The demo's cart reminder: a default name and item, and a static block when there is nothing to recommend. */
export const DEMO_TEMPLATE: EmailTemplate = {
  templateId: 'demo-cart-reminder',
  // Version 2 declares its data; version 1, seeded before, stays as it was.
  version: 2,
  subject:
    '<% if (it.has("first_name")) { %><%= it.first_name %>, you<% } else { %>You<% } %> left <%= it.trigger.name %> in your cart',
  html: `<!doctype html>
<html><body style="font-family: sans-serif">
  <p>Hello <%= it.first_name %>,</p>
  <p>you left <strong><%= it.trigger.name %></strong> in your cart.</p>
  <% if (it.has("products")) { %>
  <p>People who looked at it also liked:</p>
  <ul>
    <% it.products.forEach(function (product) { %>
    <li><%= product.name ?? product.product_id %><% if (product.price !== undefined) { %> — <%= product.price %> <%= product.currency ?? "" %><% } %></li>
    <% }) %>
  </ul>
  <% } else { %><%= it.fallback("products") %><% } %>
</body></html>`,
  text: `Hello <%= it.first_name %>,
you left <%= it.trigger.name %> in your cart.
<% if (it.has("products")) { %>
People who looked at it also liked:
<% it.products.forEach(function (product) { %>- <%= product.name ?? product.product_id %>
<% }) %><% } else { %><%= it.fallback("products") %>
<% } %>`,
  data: [
    { path: 'first_name', type: 'string', fallback: { default: 'there' } },
    { path: 'trigger.name', type: 'string', fallback: { default: 'an item' } },
    {
      path: 'products',
      type: 'list',
      fallback: { block: '<p>Our bestsellers are waiting for you at the shop.</p>' },
    },
  ],
};
