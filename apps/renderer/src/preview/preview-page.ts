/** The preview page: plain HTML and JavaScript, no build step; data comes from the admin API. */
export const PREVIEW_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Template previews</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1rem; background: #f4f4f6; }
  header { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  .sample { background: #fff; border-radius: 6px; padding: .75rem; margin: 1rem 0; }
  .frames { display: flex; gap: 1rem; align-items: flex-start; flex-wrap: wrap; }
  iframe { border: 1px solid #ccc; background: #fff; height: 640px; }
  .fallback { background: #ffe58a; border: 1px solid #e0b000; border-radius: 3px; padding: 0 .3rem; margin-right: .3rem; }
  .failed { color: #b00020; font-weight: bold; }
  .subject { font-weight: bold; }
</style></head>
<body>
<header>
  <label>Admin token <input id="token" type="password" size="30"></label>
  <button id="load">Load</button>
  <label>Template <select id="template"></select></label>
  <label>Version <input id="version" type="number" min="1" size="4" placeholder="latest"></label>
  <span>Samples: <span id="samples"></span></span>
  <label>Profile id <input id="profile" size="24" placeholder="its stored sample"></label>
  <button id="render">Render</button>
</header>
<main id="out"></main>
<script>
const $ = (id) => document.getElementById(id);
$('token').value = sessionStorage.getItem('meshAdminToken') || '';
const api = async (path, body) => {
  const response = await fetch(path, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: 'Bearer ' + $('token').value, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(path + ': ' + response.status + ' ' + (await response.text()));
  return response.json();
};
const text = (tag, value, className) => {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
};
$('load').onclick = async () => {
  sessionStorage.setItem('meshAdminToken', $('token').value);
  try {
    const templates = await api('/api/templates');
    $('template').replaceChildren(...templates.map((t) => new Option(t.templateId + ' (published v' + (t.publishedVersion ?? '-') + ', latest v' + t.latestVersion + ')', t.templateId)));
    const samples = await api('/api/preview-samples');
    $('samples').replaceChildren(...samples.map((s) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox'; box.value = s.sampleId; box.checked = true;
      label.append(box, ' ' + s.sampleId + (s.profileId ? ' (' + s.profileId + ')' : '') + ' ');
      return label;
    }));
  } catch (error) { $('out').replaceChildren(text('p', String(error), 'failed')); }
};
$('render').onclick = async () => {
  const chosen = [...$('samples').querySelectorAll('input:checked')].map((box) => box.value);
  const version = $('version').value ? Number($('version').value) : undefined;
  const profileId = $('profile').value.trim();
  const previews = chosen.map((sampleId) => ({ title: sampleId, data: { sampleId } }));
  if (profileId) previews.push({ title: 'profile ' + profileId, data: { profileId } });
  if (!previews.length) previews.push({ title: 'empty sample', data: {} });
  const sections = [];
  for (const { title, data } of previews) {
    const section = document.createElement('section');
    section.className = 'sample';
    section.append(text('h2', title));
    try {
      const result = await api('/api/templates/' + encodeURIComponent($('template').value) + '/preview', { version, ...data });
      if (!result.ok) {
        section.append(text('p', 'Not rendered: ' + result.code + ' — ' + result.reason, 'failed'));
      } else {
        section.append(text('p', 'v' + result.version + ' · Subject: ' + result.subject, 'subject'));
        const fired = document.createElement('p');
        fired.append(result.fallbacks.length ? 'Fallbacks fired: ' : 'No fallback fired');
        for (const f of result.fallbacks) fired.append(text('span', f.field + ' (' + f.kind + ')', 'fallback'));
        section.append(fired);
        const frames = document.createElement('div');
        frames.className = 'frames';
        for (const width of [600, 375]) {
          const frame = document.createElement('iframe');
          frame.setAttribute('sandbox', '');
          frame.width = String(width);
          frame.title = width + ' px';
          frame.srcdoc = result.html;
          const figure = document.createElement('figure');
          figure.append(text('figcaption', width === 600 ? 'desktop 600 px' : 'mobile 375 px'), frame);
          frames.append(figure);
        }
        section.append(frames, text('pre', result.text));
      }
    } catch (error) { section.append(text('p', String(error), 'failed')); }
    sections.push(section);
  }
  $('out').replaceChildren(...sections);
};
</script>
</body></html>
`;
