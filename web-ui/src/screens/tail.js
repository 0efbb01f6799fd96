// Live tail over `/v1/ws/consume` with credit flow control: the page grants credit in chunks
// as it takes records in; pausing stops granting, so the server stops sending (nothing is
// buffered for us while paused) and resuming grants again. Records go into a bounded ring
// buffer (older rows are dropped from view and counted), the list is virtual and redrawn at
// most once per animation frame, so thousands of records a second never freeze the page. A lost
// socket reconnects with back-off from the offset after the last record seen.
// URL: #/tail/<topic>?from=latest|earliest|<offset>&partition=&q=
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, v3, enc, fromBase64 } from '../api.js';
import { navigate, setQuery } from '../router.js';
import { ErrorText, Field, useLoad, fmtTime } from '../ui.js';
import { connect, wsUrl } from '../ws.js';
import { VirtualList } from '../vlist.js';
import { render } from '../format.js';

/** Rows kept in view; older ones are dropped (and counted). */
const RING = 5000;
/** Credit granted at a time: enough to keep the socket busy, small enough to stop quickly. */
const CREDIT = 500;

export function Tail({ route }) {
  const topic = route.args[0];
  const { data: topics } = useLoad(async () => (await get(await v3('/topics'))).data.map((t) => t.topic_name).sort(), []);
  return html`<section aria-labelledby="h-tail">
    <h1 id="h-tail">Live tail${topic ? ` of ${topic}` : ''}</h1>
    <${Field} label="Topic"><select value=${topic || ''} onChange=${(e) => navigate('tail', [e.target.value], {})}>
      <option value="">Choose a topic</option>${(topics || []).map((t) => html`<option value=${t}>${t}</option>`)}</select></${Field}>
    ${topic ? html`<${Stream} topic=${topic} query=${route.query} key=${`${topic}/${route.query.from || ''}/${route.query.partition || ''}`} />` : null}
  </section>`;
}

function text(r) {
  const v = render(fromBase64(r.value), undefined, 'text').text;
  const k = r.key == null ? '' : render(fromBase64(r.key), undefined, 'text').text;
  return { k, v: v.length > 300 ? `${v.slice(0, 300)}…` : v };
}

function Stream({ topic, query }) {
  // pending: records the server sent on credit granted before a pause; held out of view until
  // resume, so a paused view really stands still (at most CREDIT of them).
  const ring = useRef({ rows: [], pending: [], dropped: 0, received: 0, credit: 0, next: {}, lastTs: {} });
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const [status, setStatus] = useState({ state: 'connecting' });
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0);
  const [rate, setRate] = useState(0);
  const [follow, setFollow] = useState(true);
  const conn = useRef(null);
  const needle = (query.q || '').toLowerCase();

  useEffect(() => {
    const st = ring.current;
    let frame = 0;
    const redraw = () => {
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; setVersion((v) => v + 1); });
    };
    const grant = () => {
      if (!pausedRef.current && st.credit < CREDIT / 2) {
        conn.current.send({ type: 'credit', records: CREDIT - st.credit });
        st.credit = CREDIT;
      }
    };
    const from = () => {
      // After a reconnect, continue where each partition stopped: from one partition's next
      // offset, or, across partitions, from the oldest last-seen timestamp (records seen
      // already are skipped below by offset), so nothing between is lost.
      const parts = Object.keys(st.next);
      if (parts.length === 1 && query.partition !== undefined && query.partition !== '') return String(st.next[parts[0]]);
      if (parts.length) return `ts:${Math.min(...parts.map((p) => st.lastTs[p]))}`;
      return query.from || 'latest';
    };
    const partition = query.partition !== undefined && query.partition !== '' ? `&partition=${enc(query.partition)}` : '';
    conn.current = connect(
      () => wsUrl(`/v1/ws/consume?topic=${enc(topic)}${partition}&from=${enc(from())}&format=binary`),
      {
        onOpen: () => { st.credit = 0; grant(); },
        onStatus: (s) => setStatus(s),
        onMessage: (m) => {
          if (m.type === 'records') {
            st.credit -= m.records.length;
            st.received += m.records.length;
            const into = pausedRef.current ? st.pending : st.rows;
            for (const r of m.records) {
              if (r.offset < (st.next[r.partition] ?? 0)) continue; // seen before a reconnect
              into.push({ p: r.partition, o: r.offset, t: r.timestamp, ...text(r) });
              st.next[r.partition] = r.offset + 1;
              st.lastTs[r.partition] = r.timestamp;
            }
            if (pausedRef.current) return;
            if (st.rows.length > RING) {
              const extra = st.rows.length - RING;
              st.rows.splice(0, extra);
              st.dropped += extra;
            }
            grant();
            redraw();
          } else if (m.type === 'error') setError({ message: m.message, code: m.error_code });
        },
      },
    );
    let lastCount = 0;
    let lastTime = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      setRate(((st.received - lastCount) * 1000) / (now - lastTime));
      lastCount = st.received;
      lastTime = now;
    }, 1000);
    st.grant = grant;
    return () => { clearInterval(timer); cancelAnimationFrame(frame); conn.current.close(); };
  }, []);

  const togglePause = () => {
    const st = ring.current;
    pausedRef.current = !paused;
    setPaused(!paused);
    if (paused) {
      st.rows.push(...st.pending.splice(0));
      if (st.rows.length > RING) st.dropped += st.rows.splice(0, st.rows.length - RING).length;
      st.grant();
      setVersion((v) => v + 1);
    }
  };
  const st = ring.current;
  const rows = needle ? st.rows.filter((r) => r.k.toLowerCase().includes(needle) || r.v.toLowerCase().includes(needle)) : st.rows;
  const statusText = status.state === 'lost' ? `Connection lost (${status.reason}); reconnecting in ${(status.delay / 1000).toFixed(1)} s (attempt ${status.attempt})`
    : status.state === 'reconnecting' ? `Reconnecting (attempt ${status.attempt})…` : status.state === 'open' ? (paused ? 'Paused: no credit granted' : 'Live') : 'Connecting…';
  const row = (r) => html`<div class="vrow" data-offset=${r.o}><span>p${r.p}</span><span>#${r.o}</span><span>${fmtTime(r.t)}</span><span>${r.k}</span><span>${r.v}</span></div>`;

  return html`<div>
    <div class="row">
      <button type="button" class="primary" onClick=${togglePause} aria-pressed=${paused ? 'true' : 'false'}>${paused ? 'Resume' : 'Pause'}</button>
      <span class=${`status ${status.state === 'lost' ? 'lost' : status.state === 'open' ? 'open' : ''}`} role="status" data-testid="tail-status">${statusText}</span>
      <span data-testid="tail-rate">${rate.toFixed(0)} records/s</span>
      <span data-testid="tail-count">${st.rows.length + st.dropped} shown</span>
      ${paused ? html`<span data-testid="tail-held">${st.pending.length} held until resume</span>` : null}
      <span data-testid="tail-dropped">${st.dropped} dropped from view</span>
    </div>
    <div class="row">
      <${Field} label="Start from"><select value=${query.from || 'latest'} onChange=${(e) => setQuery({ from: e.target.value })}>
        <option value="latest">latest</option><option value="earliest">earliest</option></select></${Field}>
      <${Field} label="Filter key or value"><input type="search" value=${query.q || ''} onInput=${(e) => setQuery({ q: e.target.value }, { replace: true })} /></${Field}>
      <label class="row"><input type="checkbox" checked=${follow} onChange=${(e) => setFollow(e.target.checked)} /> Follow newest</label>
    </div>
    <${ErrorText} error=${error} />
    <p class="muted">Showing ${rows.length} of the last ${st.rows.length} records (at most ${RING} kept).</p>
    <${VirtualList} items=${rows} version=${version} row=${row} follow=${follow} label="Tailed records" />
  </div>`;
}
