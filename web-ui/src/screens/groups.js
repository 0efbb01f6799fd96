// Consumer groups: state, members and their assignments, lag per partition in records and in
// time (the age of the oldest unconsumed record, read at the committed offset), a chart of the
// total lag while the page is open, and offset reset with a preview of the new positions
// (computed from the partitions' offsets) before it is applied through `offsets:reset`.
// URL: #/groups  and  #/groups/<group>?to=earliest|latest|offset|timestamp&value=&topic=
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, request, v3, enc, offsets, V2_BINARY } from '../api.js';
import { href, setQuery } from '../router.js';
import { ErrorText, Field, Loading, useLoad, fmtNum, fmtTime } from '../ui.js';
import { Chart } from '../chart.js';
import { wsUrl } from '../ws.js';

export function Groups({ route }) {
  if (route.args[0]) return html`<${Group} group=${route.args[0]} query=${route.query} />`;
  return html`<${GroupList} />`;
}

function GroupList() {
  const { data, error } = useLoad(async () => {
    const groups = (await get(await v3('/consumer-groups'))).data;
    return Promise.all(groups.map(async (g) => {
      const s = await get(await v3(`/consumer-groups/${enc(g.consumer_group_id)}/lag-summary`)).catch(() => null);
      return { ...g, total_lag: s ? s.total_lag : null };
    }));
  }, []);
  return html`<section aria-labelledby="h-groups">
    <h1 id="h-groups">Consumer groups</h1>
    <${ErrorText} error=${error} />
    ${data ? data.length ? html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Group</th><th scope="col">State</th><th scope="col">Assignor</th><th scope="col" class="num">Total lag</th></tr></thead>
      <tbody>${data.map((g) => html`<tr><td><a href=${href('groups', [g.consumer_group_id])}>${g.consumer_group_id}</a></td>
        <td>${g.state}</td><td>${g.partition_assignor || '–'}</td><td class="num">${fmtNum(g.total_lag)}</td></tr>`)}</tbody></table></div>`
      : html`<p class="muted">No consumer groups yet.</p>` : html`<${Loading} />`}
  </section>`;
}

/** The timestamp of the record at `offset` (the oldest one the group has not consumed). */
async function recordTime(topic, partition, offset) {
  const r = await get(`/topics/${enc(topic)}/partitions/${partition}/records?offset=${offset}&max_bytes=1024&timeout=0`, { accept: V2_BINARY }).catch(() => []);
  return r.length ? r[0].timestamp : null;
}

async function loadGroup(group) {
  const g = await get(await v3(`/consumer-groups/${enc(group)}`));
  const consumers = (await get(await v3(`/consumer-groups/${enc(group)}/consumers`))).data;
  const members = await Promise.all(consumers.map(async (c) => {
    const a = await get(await v3(`/consumer-groups/${enc(group)}/consumers/${enc(c.consumer_id)}/assignments`)).catch(() => ({ data: [] }));
    return { ...c, assignments: a.data.map((x) => `${x.topic_name}-${x.partition_id}`) };
  }));
  const lags = (await get(await v3(`/consumer-groups/${enc(group)}/lags`))).data;
  const now = Date.now();
  for (const l of lags) {
    const t = l.lag > 0 ? await recordTime(l.topic_name, l.partition_id, l.current_offset) : null;
    l.age_ms = t === null ? null : Math.max(0, now - t);
  }
  return { group: g, members, lags };
}

function Group({ group, query }) {
  const { data, error, reload } = useLoad(() => loadGroup(group), [group]);
  const series = useRef({ xs: [], ys: [] });
  const [points, setPoints] = useState([[], []]);

  // Every 3 s: reload, and add the total lag to the chart.
  useEffect(() => {
    const t = setInterval(reload, 3000);
    return () => clearInterval(t);
  }, [reload]);
  useEffect(() => {
    if (!data) return;
    const s = series.current;
    s.xs.push(Date.now() / 1000);
    s.ys.push(data.lags.reduce((a, l) => a + l.lag, 0));
    if (s.xs.length > 200) { s.xs.shift(); s.ys.shift(); }
    setPoints([s.xs.slice(), s.ys.slice()]);
  }, [data]);

  const totalLag = data ? data.lags.reduce((a, l) => a + l.lag, 0) : null;
  return html`<section aria-labelledby="h-group">
    <p><a href=${href('groups')}>← Consumer groups</a></p>
    <h1 id="h-group">Group ${group}</h1>
    <${ErrorText} error=${error} />
    ${!data && !error ? html`<${Loading} />` : null}
    ${data ? html`<div class="cards">
        <div class="card"><span class="k">State</span><span class="v" data-testid="group-state">${data.group.state}</span></div>
        <div class="card"><span class="k">Members</span><span class="v">${data.members.length}</span></div>
        <div class="card"><span class="k">Total lag</span><span class="v" data-testid="total-lag">${fmtNum(totalLag)}</span></div>
      </div>
      <h2>Members</h2>
      ${data.members.length ? html`<div class="table-wrap"><table><thead><tr><th scope="col">Consumer</th><th scope="col">Client</th><th scope="col">Assignments</th></tr></thead>
        <tbody>${data.members.map((m) => html`<tr><td><code>${m.consumer_id}</code></td><td>${m.client_id}</td><td>${m.assignments.join(', ')}</td></tr>`)}</tbody></table></div>`
        : html`<p class="muted">No members: offsets can be reset.</p>`}
      <h2>Lag per partition</h2>
      <div class="table-wrap"><table><thead><tr><th scope="col">Topic</th><th scope="col" class="num">Partition</th><th scope="col" class="num">Committed</th>
        <th scope="col" class="num">Log end</th><th scope="col" class="num">Lag (records)</th><th scope="col" class="num">Lag (time)</th><th scope="col">Consumer</th></tr></thead>
        <tbody>${data.lags.map((l) => html`<tr><td>${l.topic_name}</td><td class="num">${l.partition_id}</td><td class="num">${fmtNum(l.current_offset)}</td>
          <td class="num">${fmtNum(l.log_end_offset)}</td><td class="num">${fmtNum(l.lag)}</td>
          <td class="num">${l.age_ms === null ? '–' : `${(l.age_ms / 1000).toFixed(1)} s`}</td><td><code>${l.consumer_id || '–'}</code></td></tr>`)}</tbody></table></div>
      <${Chart} title="Total lag (records) while this page is open" yLabel="records" series=${['lag']} data=${points} />
      <${Reset} group=${group} lags=${data.lags} query=${query} onDone=${reload} />` : null}
  </section>`;
}

/** The first offset at or after `ts`, or null: a WebSocket consume from `ts:<ms>` with credit 1. */
function offsetForTime(topic, partition, ts) {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl(`/v1/ws/consume?topic=${enc(topic)}&partition=${partition}&from=ts:${ts}&format=binary&credit=1`));
    const done = (v) => { clearTimeout(timer); socket.close(); resolve(v); };
    const timer = setTimeout(() => done(null), 1500);
    socket.onmessage = (ev) => { const m = JSON.parse(ev.data); done(m.type === 'records' && m.records.length ? m.records[0].offset : null); };
    socket.onerror = () => done(null);
  });
}

function Reset({ group, lags, query, onDone }) {
  const to = query.to || 'earliest';
  const [value, setValue] = useState(query.value || '');
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  const [applied, setApplied] = useState(null);
  const topic = query.topic || '';
  const topics = [...new Set(lags.map((l) => l.topic_name))];

  const body = () => {
    const target = to === 'offset' ? { offset: Number(value) } : to === 'timestamp' ? { timestamp: Date.parse(value) } : to;
    return topic ? { to: target, topics: [topic] } : { to: target };
  };
  const makePreview = async (e) => {
    e.preventDefault();
    setError(null);
    setApplied(null);
    if ((to === 'offset' && !/^\d+$/.test(value)) || (to === 'timestamp' && Number.isNaN(Date.parse(value)))) {
      setError({ message: to === 'offset' ? 'The offset must be a non-negative integer.' : 'The time must be ISO 8601, e.g. 2026-01-01T00:00:00Z.' });
      return;
    }
    const rows = await Promise.all(lags.filter((l) => !topic || l.topic_name === topic).map(async (l) => {
      const o = await offsets(l.topic_name, l.partition_id);
      let next;
      if (to === 'earliest') next = o.earliest;
      else if (to === 'latest') next = o.latest;
      else if (to === 'offset') next = Number(value);
      else next = (await offsetForTime(l.topic_name, l.partition_id, Date.parse(value))) ?? o.latest;
      return { ...l, next, newLag: Math.max(0, o.latest - next) };
    }));
    setPreview(rows);
  };
  const apply = async () => {
    setError(null);
    try {
      const r = await request('POST', await v3(`/consumer-groups/${enc(group)}/offsets:reset`), { body: body() });
      setApplied(r.offsets);
      setPreview(null);
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="panel" aria-labelledby="h-reset" onSubmit=${makePreview}>
    <h2 id="h-reset">Reset offsets</h2>
    <div class="row">
      <${Field} label="Reset to"><select value=${to} onChange=${(e) => { setPreview(null); setQuery({ to: e.target.value }, { replace: true }); }}>
        <option value="earliest">earliest</option><option value="latest">latest</option><option value="offset">an offset</option><option value="timestamp">a time</option></select></${Field}>
      ${to === 'offset' || to === 'timestamp' ? html`<${Field} label=${to === 'offset' ? 'Offset' : 'Time (ISO 8601)'}><input value=${value} onInput=${(e) => { setPreview(null); setValue(e.target.value); }} /></${Field}>` : null}
      <${Field} label="Topics"><select value=${topic} onChange=${(e) => { setPreview(null); setQuery({ topic: e.target.value }, { replace: true }); }}>
        <option value="">All the group's topics</option>${topics.map((t) => html`<option value=${t}>${t}</option>`)}</select></${Field}>
      <button type="submit">Preview</button>
    </div>
    ${preview ? html`<table data-testid="reset-preview"><caption>New positions (not applied yet)</caption>
      <thead><tr><th scope="col">Topic</th><th scope="col" class="num">Partition</th><th scope="col" class="num">Now</th><th scope="col" class="num">New</th><th scope="col" class="num">Lag after</th></tr></thead>
      <tbody>${preview.map((p) => html`<tr><td>${p.topic_name}</td><td class="num">${p.partition_id}</td><td class="num">${fmtNum(p.current_offset)}</td><td class="num">${fmtNum(p.next)}</td><td class="num">${fmtNum(p.newLag)}</td></tr>`)}</tbody></table>
      <div class="row"><button type="button" class="primary" onClick=${apply}>Apply reset</button></div>` : null}
    <${ErrorText} error=${error} id="reset-error" />
    ${applied ? html`<p class="ok" role="status">Reset applied: ${applied.map((o) => `${o.topic_name}-${o.partition_id} → ${o.offset}`).join(', ')} (${fmtTime(Date.now())}).</p>` : null}
  </form>`;
}
