import { type ReceivedEmail } from '@mesh/testing';

/** The mailbox's web page: newest message first, each linking to its HTML body. */
export function renderMailboxPage(messages: readonly ReceivedEmail[], smtpPort: number): string {
  const rows = messages.map(renderRow).join('\n');
  const empty = `<tr><td colspan="4" class="empty">No email yet. Send one to SMTP port ${smtpPort}.</td></tr>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Mailbox (${messages.length})</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .4rem .8rem; border-bottom: 1px solid #ddd; }
  th { background: #f4f4f4; }
  td.time { white-space: nowrap; color: #666; }
  .empty { color: #888; text-align: center; padding: 2rem; }
  button { float: right; }
</style>
</head>
<body>
<button onclick="fetch('/api/messages', { method: 'DELETE' }).then(() => location.reload())">Delete all</button>
<h1>Mailbox</h1>
<p>${messages.length} message${messages.length === 1 ? '' : 's'}, newest first; this page refreshes every 5 s.
JSON: <a href="/api/messages">/api/messages</a>.</p>
<table>
<thead><tr><th>Received</th><th>To</th><th>Subject</th><th>From</th></tr></thead>
<tbody>
${rows || empty}
</tbody>
</table>
</body>
</html>
`;
}

/** An email's HTML body, or its text when it has none. */
export function renderEmailBody(email: ReceivedEmail): string {
  if (email.html) return email.html;
  return `<!doctype html><meta charset="utf-8"><title>${escapeHtml(email.subject)}</title><pre>${escapeHtml(email.text)}</pre>`;
}

function renderRow(email: ReceivedEmail): string {
  const link = `<a href="/messages/${encodeURIComponent(email.id)}.html">${escapeHtml(email.subject || '(no subject)')}</a>`;
  return `<tr><td class="time">${escapeHtml(email.receivedAt)}</td><td>${escapeHtml(email.to.join(', '))}</td><td>${link}</td><td>${escapeHtml(email.from)}</td></tr>`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
