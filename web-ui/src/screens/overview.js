// Overview: brokers (v3), topic and partition counts, and records in/out per second over the
// last five minutes, differenced from the /metrics counters (metrics.js).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, v3 } from '../api.js';
import { Chart } from '../chart.js';
import { subscribeRates, rates } from '../metrics.js';
import { ErrorText, Loading, useLoad, fmtNum } from '../ui.js';
import { href } from '../router.js';

async function load() {
  const [brokers, topics, groups] = await Promise.all([
    get(await v3('/brokers')),
    get(await v3('/topics')),
    get(await v3('/consumer-groups')),
  ]);
  const user = topics.data.filter((t) => !t.is_internal);
  return {
    brokers: brokers.data,
    topics: user.length,
    internal: topics.data.length - user.length,
    partitions: topics.data.reduce((a, t) => a + t.partitions_count, 0),
    groups: groups.data.length,
  };
}

export function Overview() {
  const { data, error } = useLoad(load, []);
  const [, setTick] = useState(0);
  useEffect(() => subscribeRates(() => setTick((n) => n + 1)), []);
  const h = rates();
  const last = (a) => (a.length ? a[a.length - 1].toFixed(1) : '–');

  return html`<section aria-labelledby="h-overview">
    <h1 id="h-overview">Overview</h1>
    <${ErrorText} error=${error} />
    ${!data && !error ? html`<${Loading} />` : null}
    ${data ? html`<div class="cards">
      <div class="card"><span class="k">Brokers</span><span class="v">${data.brokers.length}</span></div>
      <a class="card" href=${href('topics')}><span class="k">Topics</span><span class="v">${fmtNum(data.topics)}</span>
        <small>${data.internal} internal</small></a>
      <div class="card"><span class="k">Partitions</span><span class="v">${fmtNum(data.partitions)}</span></div>
      <a class="card" href=${href('groups')}><span class="k">Consumer groups</span><span class="v">${fmtNum(data.groups)}</span></a>
      <div class="card"><span class="k">Records in /s</span><span class="v" data-testid="rate-in">${last(h.inRate)}</span></div>
      <div class="card"><span class="k">Records out /s</span><span class="v">${last(h.outRate)}</span></div>
    </div>
    <h2>Brokers</h2>
    <table><thead><tr><th scope="col">Id</th><th scope="col">Host</th><th scope="col">Port</th><th scope="col">Rack</th></tr></thead>
      <tbody>${data.brokers.map((b) => html`<tr><td>${b.broker_id}</td><td>${b.host}</td><td>${b.port}</td><td>${b.rack || '–'}</td></tr>`)}</tbody></table>` : null}
    <h2>Throughput</h2>
    <${ErrorText} error=${h.error} />
    <${Chart} title="Records per second (last 5 minutes)" yLabel="records/s" series=${['in', 'out']}
      data=${[h.xs.slice(), h.inRate.slice(), h.outRate.slice()]} />
    <p class="muted">Sampled from <a href="/metrics">/metrics</a> every 3 s while the UI is open.</p>
  </section>`;
}
