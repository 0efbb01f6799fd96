// Messages: browse one partition or all from an offset, a timestamp or the latest N; filter on
// key, value and header text; values as pretty JSON, decoded Avro (schema id, subject and
// version), text or hex; export what is shown as JSON or CSV; produce a record (JSON, text, or
// Avro typed against a subject's schema through a form built from it).
// URL: #/messages/<topic>?partition=all|N&mode=offset|latest|timestamp&from=&n=&ts=&q=&fmt=
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, v3, enc, offsets, fromBase64, V2_BINARY, SR } from '../api.js';
import { schemaById, decode } from '../avro.js';
import { href, navigate, setQuery } from '../router.js';
import { ErrorText, Field, Loading, useLoad, download, fmtTime } from '../ui.js';
import { render, asText, schemaId, csvCell } from '../format.js';
import { wsUrl } from '../ws.js';
import { ProduceForm } from './produce.js';

const MAX_SHOWN = 2000;
/** Records drawn at first (and added per "Show more"): drawing 2,000 at once is a long task. */
const PAGE = 200;
const READ_BYTES = 1 << 20;

export function Messages({ route }) {
  const topic = route.args[0];
  const { data: topics } = useLoad(async () => (await get(await v3('/topics'))).data.map((t) => t.topic_name).sort(), []);
  return html`<section aria-labelledby="h-messages">
    <h1 id="h-messages">Messages${topic ? ` in ${topic}` : ''}</h1>
    <${Field} label="Topic"><select value=${topic || ''} onChange=${(e) => navigate('messages', [e.target.value], {})}>
      <option value="">Choose a topic</option>${(topics || []).map((t) => html`<option value=${t}>${t}</option>`)}</select></${Field}>
    ${topic ? html`<${Browser} topic=${topic} query=${route.query} key=${topic} /><${ProduceForm} topic=${topic} />` : null}
  </section>`;
}

/** The first offset at or after `ts` in a partition: a WebSocket consume from `ts:<ms>` with credit 1. */
function offsetForTime(topic, partition, ts) {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl(`/v1/ws/consume?topic=${enc(topic)}&partition=${partition}&from=ts:${ts}&format=binary&credit=1`));
    const done = (v) => { clearTimeout(timer); socket.close(); resolve(v); };
    const timer = setTimeout(() => done(null), 1500);
    socket.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'records' && m.records.length) done(m.records[0].offset);
      else if (m.type === 'error') done(null);
    };
    socket.onerror = () => done(null);
  });
}

async function readRange(topic, partition, start, end, accept) {
  const out = [];
  let offset = start;
  while (offset < end) {
    const batch = await get(`/topics/${enc(topic)}/partitions/${partition}/records?offset=${offset}&max_bytes=${READ_BYTES}&timeout=0`, { accept });
    if (!batch.length) break;
    for (const r of batch) if (r.offset < end) out.push(r);
    offset = batch[batch.length - 1].offset + 1;
  }
  return out;
}

const subjectsById = new Map();
async function schemaLabel(id) {
  if (!subjectsById.has(id)) {
    subjectsById.set(id, get(`/schemas/ids/${id}/versions`, { accept: SR }).then(
      (vs) => vs.map((v) => `${v.subject} v${v.version}`).join(', '),
      () => '',
    ));
  }
  return subjectsById.get(id);
}

async function browse(topic, q) {
  const parts = (await get(await v3(`/topics/${enc(topic)}/partitions`))).data.map((p) => p.partition_id);
  const chosen = q.partition === undefined || q.partition === 'all' ? parts : [Number(q.partition)];
  const n = Math.min(MAX_SHOWN, Number(q.n) || 100);
  const mode = q.mode || 'latest';
  const perPartition = await Promise.all(chosen.map(async (p) => {
    const o = await offsets(topic, p);
    let start;
    if (mode === 'offset') start = q.from === undefined || q.from === 'earliest' ? o.earliest : Math.max(o.earliest, Number(q.from));
    else if (mode === 'timestamp') start = (await offsetForTime(topic, p, Date.parse(q.ts || 0))) ?? o.latest;
    else start = Math.max(o.earliest, o.latest - n);
    const end = Math.min(o.latest, start + n);
    const records = await readRange(topic, p, start, end, V2_BINARY);
    return records;
  }));
  const all = perPartition.flat().sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset).slice(-MAX_SHOWN);
  for (const r of all) {
    r.keyBytes = fromBase64(r.key);
    r.valueBytes = fromBase64(r.value);
    r.schemaId = schemaId(r.valueBytes);
    if (r.schemaId !== null) {
      r.schemaLabel = await schemaLabel(r.schemaId);
      try {
        r.avro = decode(await schemaById(r.schemaId), r.valueBytes);
      } catch (e) {
        r.avroError = e.message;
      }
    }
    r.headerText = (r.headers || []).map((h) => `${h.key}=${h.value == null ? 'null' : asText(fromBase64(h.value)) ?? h.value}`);
    // Rendered once here, not on every keystroke of the filter.
    r.keyText = render(r.keyBytes, undefined, 'text').text;
    r.search = [r.keyText, render(r.valueBytes, r.avro, 'auto').text, ...r.headerText].join('\n').toLowerCase();
    r.views = {};
  }
  return { parts, records: all };
}

function exportRows(records, fmt, kind) {
  const rows = records.map((r) => ({
    topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp,
    key: r.keyText, value: render(r.valueBytes, r.avro, fmt).text,
    schema_id: r.schemaId, headers: r.headerText,
  }));
  if (kind === 'json') download('records.json', 'application/json', JSON.stringify(rows.map((r) => ({ ...r, value: r.value })), null, 2));
  else {
    const cols = ['topic', 'partition', 'offset', 'timestamp', 'key', 'value', 'schema_id', 'headers'];
    const lines = [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(Array.isArray(r[c]) ? r[c].join(';') : r[c])).join(','))];
    download('records.csv', 'text/csv', lines.join('\n'));
  }
}

function Browser({ topic, query }) {
  const q = { mode: 'latest', n: '100', partition: 'all', fmt: 'auto', ...query };
  const { data, error, loading, reload } = useLoad(() => browse(topic, q), [topic, q.partition, q.mode, q.from, q.n, q.ts]);
  const [draft, setDraft] = useState({ from: q.from || '0', ts: q.ts || '', n: q.n });
  const [limit, setLimit] = useState(PAGE);
  const needle = (q.q || '').toLowerCase();
  const shown = data ? data.records.filter((r) => !needle || r.search.includes(needle)) : [];
  const view = (r) => r.views[q.fmt] || (r.views[q.fmt] = render(r.valueBytes, r.avro, q.fmt));

  return html`<div>
    <form class="panel" aria-label="What to read" onSubmit=${(e) => { e.preventDefault(); setQuery({ from: draft.from, ts: draft.ts, n: draft.n }); }}>
      <div class="row">
        <${Field} label="Partition"><select value=${q.partition} onChange=${(e) => setQuery({ partition: e.target.value })}>
          <option value="all">All partitions</option>${(data ? data.parts : []).map((p) => html`<option value=${p}>${p}</option>`)}</select></${Field}>
        <${Field} label="Start"><select value=${q.mode} onChange=${(e) => setQuery({ mode: e.target.value })}>
          <option value="latest">Latest N</option><option value="offset">From an offset</option><option value="timestamp">From a time</option></select></${Field}>
        ${q.mode === 'offset' ? html`<${Field} label="Offset"><input value=${draft.from} onInput=${(e) => setDraft({ ...draft, from: e.target.value })} /></${Field}>` : null}
        ${q.mode === 'timestamp' ? html`<${Field} label="Time (ISO 8601, UTC)"><input value=${draft.ts} placeholder="2026-01-01T00:00:00Z" onInput=${(e) => setDraft({ ...draft, ts: e.target.value })} /></${Field}>` : null}
        <${Field} label="Records per partition"><input type="number" min="1" max=${MAX_SHOWN} value=${draft.n} onInput=${(e) => setDraft({ ...draft, n: e.target.value })} /></${Field}>
        <button type="submit" class="primary">Read</button>
        <button type="button" onClick=${reload}>Refresh</button>
      </div>
      <div class="row">
        <${Field} label="Filter key, value, headers"><input type="search" value=${q.q || ''} onInput=${(e) => setQuery({ q: e.target.value }, { replace: true })} /></${Field}>
        <${Field} label="Show values as"><select value=${q.fmt} onChange=${(e) => setQuery({ fmt: e.target.value }, { replace: true })}>
          ${['auto', 'json', 'avro', 'text', 'hex'].map((f) => html`<option value=${f}>${f}</option>`)}</select></${Field}>
        <button type="button" onClick=${() => exportRows(shown, q.fmt, 'json')} disabled=${!shown.length}>Export JSON</button>
        <button type="button" onClick=${() => exportRows(shown, q.fmt, 'csv')} disabled=${!shown.length}>Export CSV</button>
      </div>
    </form>
    <${ErrorText} error=${error} />
    ${loading && !data ? html`<${Loading} />` : null}
    ${data ? html`<p class="muted" aria-live="polite">${shown.length} of ${data.records.length} records shown.</p>
      <ol class="records" aria-label="Records">${shown.slice(0, limit).map((r) => {
        const v = view(r);
        return html`<li class="msg" data-offset=${r.offset}>
          <header><span>partition ${r.partition}</span><span>offset ${r.offset}</span><span>${fmtTime(r.timestamp)}</span>
            <span>key: <code>${r.keyText}</code></span>
            <span class="badge">${v.kind}${r.schemaId !== null && v.kind === 'avro' ? ` · schema id ${r.schemaId}${r.schemaLabel ? ` (${r.schemaLabel})` : ''}` : ''}</span>
            ${r.headerText.length ? html`<span>headers: ${r.headerText.join(', ')}</span>` : null}</header>
          ${r.avroError ? html`<p class="error">Avro decoding (schema id ${r.schemaId}): ${r.avroError}</p>` : null}
          <pre>${v.text}</pre></li>`;
      })}</ol>
      ${shown.length > limit ? html`<button type="button" onClick=${() => setLimit(limit + PAGE)}>Show ${Math.min(PAGE, shown.length - limit)} more (${shown.length - limit} not drawn)</button>` : null}` : null}
  </div>`;
}
