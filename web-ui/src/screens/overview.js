// Overview: the cluster (controller, brokers alive and fenced, offline and under-replicated
// partitions: screens/cluster.js loads them), topic and partition counts, bytes on disk, and
// records in/out per second over the last five minutes, differenced from the /metrics counters
// (metrics.js).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, v3 } from '../api.js';
import { Chart } from '../chart.js';
import { subscribeRates, rates } from '../metrics.js';
import { ErrorText, Loading, useLoad, fmtNum, fmtBytes } from '../ui.js';
import { href } from '../router.js';
import { loadCluster } from './cluster.js';

/** Above this many partitions the overview does not walk them (the Cluster screen does). */
const WALK_LIMIT = 1000;

async function load() {
  const [cluster, topics, groups, sizes] = await Promise.all([
    loadCluster({ maxPartitions: WALK_LIMIT }),
    get(await v3('/topics')),
    get(await v3('/consumer-groups')),
    get('/v1/topics/sizes'),
  ]);
  const user = topics.data.filter((t) => !t.is_internal);
  return {
    cluster,
    bytes: sizes.topics.reduce((a, t) => a + t.size_bytes, 0),
    sizesOf: sizes.broker_id,
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
      <a class="card" href=${href('cluster')}><span class="k">Brokers alive</span><span class="v" data-testid="overview-brokers">${data.cluster.status.brokers.filter((b) => !b.fenced).length}</span>
        <small>${data.cluster.status.brokers.filter((b) => b.fenced).length} fenced</small></a>
      <a class="card" href=${href('cluster')}><span class="k">Controller</span><span class="v">${data.cluster.status.controller_id ?? 'none'}</span></a>
      <a class="card" href=${href('cluster', [], { state: 'offline' })}><span class="k">Offline partitions</span>
        <span class=${`v ${data.cluster.status.offline_partitions ? 'error' : ''}`} data-testid="overview-offline">${fmtNum(data.cluster.status.offline_partitions)}</span></a>
      ${data.cluster.partitions ? html`
        <a class="card" href=${href('cluster', [], { state: 'under-replicated' })}><span class="k">Under-replicated</span>
          <span class=${`v ${data.cluster.under.length ? 'error' : ''}`} data-testid="overview-under">${fmtNum(data.cluster.under.length)}</span></a>`
        : html`<a class="card" href=${href('cluster')}><span class="k">Under-replicated</span><span class="v small">on the Cluster screen</span>
          <small>${fmtNum(data.cluster.partitionCount)} partitions: not walked here</small></a>`}
      <a class="card" href=${href('topics')}><span class="k">Topics</span><span class="v">${fmtNum(data.topics)}</span>
        <small>${data.internal} internal</small></a>
      <div class="card"><span class="k">Partitions</span><span class="v">${fmtNum(data.partitions)}</span></div>
      <div class="card"><span class="k">On disk</span><span class="v" title=${`${fmtNum(data.bytes)} bytes`}>${fmtBytes(data.bytes)}</span><small>broker ${data.sizesOf}'s logs</small></div>
      <a class="card" href=${href('groups')}><span class="k">Consumer groups</span><span class="v">${fmtNum(data.groups)}</span></a>
      <div class="card"><span class="k">Records in /s</span><span class="v" data-testid="rate-in">${last(h.inRate)}</span></div>
      <div class="card"><span class="k">Records out /s</span><span class="v">${last(h.outRate)}</span></div>
    </div>
    <h2>Brokers</h2>
    <table><thead><tr><th scope="col">Id</th><th scope="col">Address</th><th scope="col">State</th></tr></thead>
      <tbody>${data.cluster.status.brokers.map((b) => html`<tr><td>${b.broker_id}${b.broker_id === data.cluster.status.controller_id ? html` <span class="badge">controller</span>` : null}</td>
        <td>${b.url}</td><td>${b.fenced ? 'fenced' : 'alive'}</td></tr>`)}</tbody></table>
    <p><a href=${href('cluster')}>Cluster details</a></p>` : null}
    <h2>Throughput</h2>
    <${ErrorText} error=${h.error} />
    <${Chart} title="Records per second (last 5 minutes)" yLabel="records/s" series=${['in', 'out']}
      data=${[h.xs.slice(), h.inRate.slice(), h.outRate.slice()]} />
    <p class="muted">Sampled from <a href="/metrics">/metrics</a> every 3 s while the UI is open.</p>
  </section>`;
}
