/** One published version of an email template; its parts are Eta templates over `it`. */
export interface EmailTemplate {
  templateId: string;
  version: number;
  subject: string;
  html: string;
  text: string;
}

/** The demo's cart reminder, with a fallback name and a block shown only when there are products. */
export const DEMO_TEMPLATE: EmailTemplate = {
  templateId: 'demo-cart-reminder',
  version: 1,
  subject: '<%= it.first_name ?? "Hello" %>, you left <%= it.trigger.name ?? "something" %> in your cart',
  html: `<!doctype html>
<html><body style="font-family: sans-serif">
  <p>Hello <%= it.first_name ?? "there" %>,</p>
  <p>you left <strong><%= it.trigger.name ?? "an item" %></strong> in your cart.</p>
  <% if (it.products.length > 0) { %>
  <p>People who looked at it also liked:</p>
  <ul>
    <% it.products.forEach(function (product) { %>
    <li><%= product.name ?? product.product_id %><% if (product.price !== undefined) { %> — <%= product.price %> <%= product.currency ?? "" %><% } %></li>
    <% }) %>
  </ul>
  <% } %>
</body></html>`,
  text: `Hello <%= it.first_name ?? "there" %>,

you left <%= it.trigger.name ?? "an item" %> in your cart.
<% if (it.products.length > 0) { %>
People who looked at it also liked:
<% it.products.forEach(function (product) { %>- <%= product.name ?? product.product_id %>
<% }) %><% } %>`,
};
