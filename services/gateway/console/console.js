// The rag-stream console: plain ES modules against the gateway's own API (no framework, no CDN).
const $ = (selector) => document.querySelector(selector);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
};
const statusCell = (status) => el('span', { class: `status-${status}` }, status);

// The API key lives in this tab's session only (sessionStorage), never in a URL or cookie.
const KEY_STORAGE = 'rag-stream-api-key';
$('#api-key').value = sessionStorage.getItem(KEY_STORAGE) ?? '';
$('#api-key').addEventListener('change', (event) => {
  sessionStorage.setItem(KEY_STORAGE, event.target.value.trim());
  showError(null);
});
const authHeaders = () => {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { authorization: `Bearer ${key}` } : {};
};

async function api(method, path, body) {
  const init = { method, headers: authHeaders() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  const answer = res.status === 204 ? null : await res.json();
  if (res.status === 401) $('#api-key').focus();
  if (!res.ok) throw new Error(`${answer?.error ?? res.status}: ${answer?.message ?? res.statusText}`);
  return answer;
}

/**
 * Server-Sent Events through fetch (EventSource cannot send an Authorization header): calls
 * `onEvent(type, data)` per event until the stream ends or `onEvent` returns true.
 */
async function streamEvents(path, onEvent) {
  const res = await fetch(path, { headers: { ...authHeaders(), accept: 'text/event-stream' } });
  if (!res.ok || !res.body) throw new Error(`${res.status}: status stream refused`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const type = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
      const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join('\n');
      if (onEvent(type, data)) {
        await reader.cancel();
        return;
      }
    }
  }
}

function showError(err) {
  const box = $('#error');
  box.textContent = err ? err.message : '';
  box.hidden = !err;
}

// ---- views (hash routing) ----
const views = { documents: loadDocuments, 'dead-letters': loadDeadLetters, pipeline: startPipeline };
let stopPipeline = () => {};
function route() {
  const name = location.hash.slice(1) || 'upload';
  for (const section of document.querySelectorAll('[data-view]')) section.hidden = section.dataset.view !== name;
  for (const link of document.querySelectorAll('nav a')) link.toggleAttribute('aria-current', link.getAttribute('href') === `#${name}`);
  for (const link of document.querySelectorAll('nav a[aria-current]')) link.setAttribute('aria-current', 'page');
  stopPipeline();
  showError(null);
  views[name]?.().catch(showError);
}
window.addEventListener('hashchange', route);

// ---- upload ----
const drop = $('#drop');
const fileInput = $('#file-input');
drop.addEventListener('click', () => fileInput.click());
drop.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), fileInput.click()));
drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  for (const file of e.dataTransfer.files) upload(file, file.name);
});
fileInput.addEventListener('change', () => {
  for (const file of fileInput.files) upload(file, file.name);
  fileInput.value = '';
});
$('#paste-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('#paste-text').value;
  const title = $('#paste-title').value || 'pasted text';
  upload(new Blob([text], { type: 'text/plain' }), title.endsWith('.txt') ? title : `${title}.txt`);
  $('#paste-text').value = '';
});

/** One row per upload, following the document's status stream (SSE) until it ends. */
function upload(blob, name) {
  const status = el('td', {}, 'sending');
  const bar = el('progress', { max: '1', value: '0', 'aria-label': `progress of ${name}` });
  const detail = el('td');
  const retry = el('button', { type: 'button', class: 'secondary', hidden: '' }, 'Retry');
  const row = el('tr', { 'data-file': name }, el('td', {}, name), status, el('td', {}, bar), detail, el('td', {}, retry));
  $('#uploads').prepend(row);
  retry.addEventListener('click', () => (row.remove(), upload(blob, name)));
  const form = new FormData();
  form.append('file', blob, name);
  api('POST', '/v1/documents', form).then(
    (accepted) => {
      row.dataset.document = accepted.documentId;
      follow(accepted.documentId, accepted.version, { status, bar, detail, retry });
    },
    (err) => {
      status.replaceChildren(statusCell('failed'));
      detail.textContent = err.message;
      retry.hidden = false;
    },
  );
}

function follow(documentId, version, cells) {
  const onEvent = (type, data) => {
    if (type !== 'status') return false;
    const s = JSON.parse(data);
    if (s.version !== version) return false;
    const total = s.chunkCount ?? 0;
    const stage =
      s.status === 'chunked' || s.status === 'indexing' ? `${s.status}: ${s.indexedChunks} of ${total} chunks indexed` : s.status;
    cells.status.replaceChildren(statusCell(s.status));
    cells.bar.max = Math.max(1, total);
    cells.bar.value = s.status === 'indexed' ? cells.bar.max : s.indexedChunks;
    const failure = s.failures.at(-1);
    cells.detail.textContent = failure
      ? `${failure.stage}: ${failure.reason}`
      : total
        ? `${stage} (${total} chunk${total === 1 ? '' : 's'})`
        : stage;
    const finished = ['indexed', 'failed', 'deleted'].includes(s.status);
    if (finished) cells.retry.hidden = s.status !== 'failed';
    return finished;
  };
  streamEvents(`/v1/documents/${encodeURIComponent(documentId)}/events`, onEvent).catch((err) => {
    cells.detail.textContent = err.message;
  });
}

// ---- documents ----
let cursor = null;
$('#documents-refresh').addEventListener('click', () => loadDocuments().catch(showError));
$('#status-filter').addEventListener('change', () => loadDocuments().catch(showError));
$('#documents-more').addEventListener('click', () => loadDocuments(cursor).catch(showError));

async function loadDocuments(after) {
  const params = new URLSearchParams({ limit: '50' });
  if ($('#status-filter').value) params.set('status', $('#status-filter').value);
  if (after) params.set('cursor', after);
  const page = await api('GET', `/v1/documents?${params}`);
  if (!after) $('#documents').replaceChildren();
  for (const d of page.documents) {
    const open = el('a', { href: '#documents', 'data-document': d.documentId }, d.documentId);
    open.addEventListener('click', (e) => (e.preventDefault(), showDocument(d.documentId).catch(showError)));
    $('#documents').append(
      el(
        'tr',
        {},
        el('td', {}, open),
        el('td', {}, d.title ?? ''),
        el('td', {}, d.version),
        el('td', {}, statusCell(d.status)),
        el('td', {}, d.chunkCount ?? ''),
        el('td', {}, d.timings.totalMs === null ? '' : `${d.timings.totalMs} ms`),
        el('td', {}, new Date(d.createdAt).toLocaleString()),
      ),
    );
  }
  cursor = page.nextCursor;
  $('#documents-more').hidden = !cursor;
}

async function showDocument(id) {
  const s = await api('GET', `/v1/documents/${encodeURIComponent(id)}`);
  const box = $('#document-detail');
  const remove = el('button', { type: 'button' }, 'Delete');
  remove.addEventListener('click', async () => {
    if (!confirm(`Delete ${id} (every version)?`)) return;
    await api('DELETE', `/v1/documents/${encodeURIComponent(id)}`).catch(showError);
    await loadDocuments();
    await showDocument(id).catch(showError);
  });
  const failures = s.failures.map((f) => el('li', {}, `${f.stage}: ${f.reason}`));
  box.replaceChildren(
    el('h3', {}, `${s.title ?? s.documentId} — `, statusCell(s.status)),
    el('p', { class: 'hint' }, `id ${s.documentId}`),
    el('p', {}, `version ${s.version}, ${s.indexedChunks} of ${s.chunkCount ?? '?'} chunks indexed, total ${s.timings.totalMs ?? '—'} ms`),
    el('ul', {}, ...failures),
    remove,
  );
  if (s.searchableVersion !== null) {
    const { chunks } = await api('GET', `/v1/documents/${encodeURIComponent(id)}/chunks`);
    box.append(
      ...chunks.map((c) => el('div', { class: 'chunk' }, el('strong', {}, `#${c.chunkIndex} ${c.heading ?? ''}`), el('p', {}, c.text))),
    );
  }
}

// ---- search ----
$('#search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  search().catch(showError);
});

async function search() {
  const query = $('#search-query').value;
  const body = { query, k: Number($('#search-k').value) || 5, hybrid: $('#search-hybrid').checked };
  if ($('#search-document').value) body.filter = { documentId: $('#search-document').value };
  const { hits } = await api('POST', '/v1/search', body);
  const words = query
    .toLowerCase()
    .split(/\W+/)
    .filter((w) => w.length > 2);
  $('#hits').replaceChildren(
    ...hits.map((h) =>
      el(
        'li',
        { 'data-document': h.documentId },
        el(
          'div',
          {},
          el('strong', {}, h.title ?? h.documentId),
          ' · ',
          [`chunk ${h.chunkIndex}`, whereInFile(h), h.heading, `score ${h.score.toFixed(3)}`].filter(Boolean).join(' · '),
        ),
        highlight(h.text, words),
      ),
    ),
  );
  if (hits.length === 0) $('#hits').append(el('li', {}, 'no hits'));
}

/** The chunk text with the query's words marked. */
function highlight(text, words) {
  const p = el('p');
  for (const part of text.split(/(\W+)/))
    p.append(words.includes(part.toLowerCase()) ? el('mark', {}, part) : document.createTextNode(part));
  return p;
}

// ---- dead letters ----
$('#dlq-refresh').addEventListener('click', () => loadDeadLetters().catch(showError));

async function loadDeadLetters() {
  const summaries = await api('GET', '/v1/admin/dead-letters');
  $('#dlq-records').replaceChildren();
  $('#dlq-stages').replaceChildren(
    el(
      'table',
      { 'aria-label': 'Dead letters per stage' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Stage'), el('th', {}, 'Records'), el('th', {}, 'Reasons'), el('th', {}, ''))),
      el('tbody', {}, ...summaries.map(stageRow)),
    ),
  );
}

function stageRow(summary) {
  const inspect = el('button', { type: 'button', class: 'secondary' }, 'Inspect');
  const replay = el('button', { type: 'button' }, 'Replay');
  const purge = el('button', { type: 'button', class: 'secondary' }, 'Purge');
  inspect.addEventListener('click', () => showRecords(summary.stage).catch(showError));
  replay.addEventListener('click', async () => {
    if (!confirm(`Replay the ${summary.stage} dead letters not replayed yet?`)) return;
    const result = await api('POST', `/v1/admin/dead-letters/${summary.stage}/replay`, {}).catch(showError);
    if (result) $('#dlq-records').replaceChildren(el('p', {}, `replayed ${result.replayed} record(s) from ${result.topic}`));
  });
  purge.addEventListener('click', async () => {
    if (prompt(`Delete all ${summary.records} record(s) of the ${summary.stage} DLQ? Type the stage name to confirm.`) !== summary.stage)
      return;
    await api('DELETE', `/v1/admin/dead-letters/${summary.stage}?confirm=${summary.stage}`).catch(showError);
    await loadDeadLetters();
  });
  const reasons = el('ul', {}, ...summary.reasons.map((r) => el('li', {}, `${r.count} × ${r.reason}`)));
  return el(
    'tr',
    { 'data-stage': summary.stage },
    el('td', {}, summary.stage),
    el('td', {}, summary.records),
    el('td', {}, reasons),
    el('td', {}, inspect, ' ', replay, ' ', purge),
  );
}

async function showRecords(stage) {
  const records = await api('GET', `/v1/admin/dead-letters/${stage}/records?limit=20`);
  $('#dlq-records').replaceChildren(
    el('h3', {}, `${stage}: ${records.length} record(s)`),
    ...records.map((r) => el('details', {}, el('summary', {}, `${r.key} — ${r.reason}`), el('pre', {}, JSON.stringify(r, null, 2)))),
  );
}

// ---- pipeline ----
async function startPipeline() {
  let timer;
  const refresh = async () => {
    const p = await api('GET', '/v1/admin/pipeline');
    $('#stages').replaceChildren(
      ...p.stages.map((s) => {
        const r = p.rates.find((x) => x.stage === s.stage) ?? { recordsPerSecond: 0, retriesPerSecond: 0, deadLettersPerSecond: 0 };
        return el(
          'tr',
          { 'data-stage': s.stage },
          el('td', {}, s.stage),
          el('td', {}, s.instances),
          el('td', {}, s.state),
          el('td', {}, s.lag),
          el('td', {}, r.recordsPerSecond.toFixed(1)),
          el('td', {}, r.retriesPerSecond.toFixed(1)),
          el('td', {}, r.deadLettersPerSecond.toFixed(1)),
          el('td', {}, s.deadLetters),
        );
      }),
    );
    $('#pipeline-meta').textContent = `documents submitted: ${p.submitted} · ${new Date(p.at).toLocaleTimeString()}`;
  };
  const loop = () =>
    refresh()
      .catch(showError)
      .finally(() => (timer = setTimeout(loop, 2000)));
  stopPipeline = () => clearTimeout(timer);
  loop();
}

route();

/** Where a hit is in its file: "p. 7", "pp. 6–7", "slide 3", "sheet Parts" (null for text formats). */
function whereInFile(hit) {
  const span = (start, end, one, many) =>
    start == null ? null : start === end || end == null ? `${one} ${start}` : `${many} ${start}–${end}`;
  return (
    span(hit.pageStart, hit.pageEnd, 'p.', 'pp.') ??
    span(hit.slideStart, hit.slideEnd, 'slide', 'slides') ??
    (hit.sheet ? `sheet ${hit.sheet}` : null)
  );
}
