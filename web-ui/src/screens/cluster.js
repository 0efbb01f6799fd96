// Cluster: the brokers as the metadata quorum has them (alive or fenced, the controller
// marked), the metadata log (the answering broker's applied index, each broker's lag as the
// controller sees it), partitions and leaders per broker, and the offline (no leader) and
// under-replicated (ISR smaller than the replicas) partitions. Brokers, controller, metadata
// log and the offline count come from /v1/cluster; partitions, leaders and ISR from the v3
// topics → partitions → replicas resources, walked a few requests at a time.
// URL: #/cluster?broker=<id>&state=all|offline|under-replicated&q=<topic filter>
import { html } from '../html.js';
import { get, v3, enc } from '../api.js';
import { href, setQuery } from '../router.js';
import { ErrorText, Field, Loading, useLoad, fmtNum } from '../ui.js';
import { VirtualList } from '../vlist.js';

/** Requests in flight at once while walking the partitions. */
const CONCURRENCY = 8;
/** A walk is reused for this long: the overview and this screen share one. */
const FRESH_MS = 5000;

/** Runs `fn` over `items`, at most `limit` at a time; resolves to the results in order. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The broker id at the end of a v3 `related` link (…/replicas/3 → 3), or null. */
const brokerOf = (link) => (link && link.related ? Number(link.related.split('/').pop()) : null);

/**
 * Every partition with its leader, replicas and ISR. The replicas of a partition are asked
 * for only when they can differ from its leader alone: a replication factor above 1, or no leader.
 */
async function walkPartitions(topics) {
  const perTopic = await pool(topics, CONCURRENCY, async (t) => {
    const parts = (await get(await v3(`/topics/${enc(t.topic_name)}/partitions`))).data;
    return pool(parts, CONCURRENCY, async (p) => {
      const leader = brokerOf(p.leader);
      let replicas = leader === null ? [] : [leader];
      let isr = replicas;
      if (t.replication_factor > 1 || leader === null) {
        const list = (await get(await v3(`/topics/${enc(t.topic_name)}/partitions/${p.partition_id}/replicas`))).data;
        replicas = list.map((r) => r.broker_id);
        isr = list.filter((r) => r.is_in_sync).map((r) => r.broker_id);
      }
      return { topic: t.topic_name, partition: p.partition_id, leader, replicas, isr };
    });
  });
  return perTopic.flat();
}

let cached = null;

/** Drops the shared walk: the next load asks the API again. */
export function forget() {
  cached = null;
}

/**
 * The cluster: /v1/cluster's status and, unless there are more than `maxPartitions`
 * partitions, every partition's placement (`partitions` is then null).
 */
export function loadCluster({ maxPartitions = Infinity } = {}) {
  if (cached && Date.now() - cached.at < FRESH_MS && (cached.walked || maxPartitions !== Infinity)) return cached.promise;
  const entry = { at: Date.now(), walked: false };
  const promise = (async () => {
    const [status, topics] = await Promise.all([get('/v1/cluster'), get(await v3('/topics'))]);
    const count = topics.data.reduce((a, t) => a + t.partitions_count, 0);
    const partitions = count <= maxPartitions ? await walkPartitions(topics.data) : null;
    const offline = partitions && partitions.filter((p) => p.leader === null);
    const under = partitions && partitions.filter((p) => p.leader !== null && p.isr.length < p.replicas.length);
    const perBroker = {};
    for (const b of status.brokers) perBroker[b.broker_id] = { replicas: 0, leaders: 0 };
    for (const p of partitions || []) {
      for (const r of p.replicas) (perBroker[r] ||= { replicas: 0, leaders: 0 }).replicas += 1;
      if (p.leader !== null) (perBroker[p.leader] ||= { replicas: 0, leaders: 0 }).leaders += 1;
    }
    entry.walked = partitions !== null;
    return { status, partitionCount: count, partitions, offline, under, perBroker };
  })();
  entry.promise = promise;
  cached = entry;
  promise.catch(() => { if (cached === entry) cached = null; });
  return promise;
}

const stateOf = (p) => (p.leader === null ? 'offline' : p.isr.length < p.replicas.length ? 'under-replicated' : 'in sync');

function Brokers({ data, selected }) {
  const { status, perBroker } = data;
  const controller = status.controller_id === status.broker_id ? null : status.brokers.find((b) => b.broker_id === status.controller_id);
  return html`<div class="table-wrap"><table>
    <caption class="muted">As broker ${status.broker_id} (the one answering) has the metadata log applied${status.controller_id === status.broker_id ? '; lags as this broker, the controller, sees them' : ''}.</caption>
    <thead><tr><th scope="col">Broker</th><th scope="col">Address</th><th scope="col">Cluster port</th><th scope="col">State</th>
      <th scope="col" class="num">Registration epoch</th><th scope="col" class="num">Metadata applied index</th><th scope="col" class="num">Metadata lag</th>
      <th scope="col" class="num">Partitions</th><th scope="col" class="num">Leaders</th><th scope="col"></th></tr></thead>
    <tbody>${status.brokers.map((b) => {
      const counts = perBroker[b.broker_id] || { replicas: 0, leaders: 0 };
      const me = b.broker_id === status.broker_id;
      return html`<tr data-broker=${b.broker_id} class=${selected === String(b.broker_id) ? 'selected' : ''}>
        <th scope="row">${b.broker_id}${b.broker_id === status.controller_id ? html` <span class="badge" data-testid="controller-badge">controller</span>` : null}</th>
        <td><a href=${`${b.url}/ui/#/cluster`}>${b.url}</a></td>
        <td>${b.cluster_addr || '–'}</td>
        <td><span class=${`status ${b.fenced ? 'lost' : 'open'}`}>${b.fenced ? 'fenced' : 'alive'}</span></td>
        <td class="num">${fmtNum(b.epoch)}</td>
        <td class="num">${me ? fmtNum(status.metadata_applied_index) : html`<span class="muted" title="Each broker reports its own: open its UI">not reported here</span>`}</td>
        <td class="num" data-testid=${`lag-${b.broker_id}`}>${b.metadata_lag != null ? `${fmtNum(b.metadata_lag)} entries`
          : controller ? html`<a href=${`${controller.url}/ui/#/cluster`} title="Only the controller knows each broker's lag">ask broker ${controller.broker_id}</a>` : '–'}</td>
        <td class="num">${data.partitions ? fmtNum(counts.replicas) : '–'}</td>
        <td class="num">${data.partitions ? fmtNum(counts.leaders) : '–'}</td>
        <td><a href=${href('cluster', [], { broker: b.broker_id })} aria-label=${`Partitions of broker ${b.broker_id}`}>Partitions</a></td></tr>`;
    })}</tbody></table></div>`;
}

function Partitions({ data, query }) {
  const state = query.state || 'all';
  const needle = (query.q || '').toLowerCase();
  const broker = query.broker === undefined || query.broker === '' ? null : Number(query.broker);
  const shown = data.partitions.filter((p) => (broker === null || p.replicas.includes(broker) || p.leader === broker)
    && (state === 'all' || stateOf(p) === state) && (!needle || p.topic.toLowerCase().includes(needle)));
  const row = (p) => html`<div class="vrow">
    <span><a href=${href('topics', [p.topic])}>${p.topic}</a> / ${p.partition}</span>
    <span>leader ${p.leader ?? 'none'}</span><span>replicas ${p.replicas.join(',') || '–'}</span><span>ISR ${p.isr.join(',') || '–'}</span>
    <span class=${stateOf(p) === 'in sync' ? '' : 'error'}>${stateOf(p)}</span></div>`;
  return html`<div>
    <h2 id="h-partitions">Partitions${broker === null ? '' : ` of broker ${broker}`}</h2>
    <div class="row">
      <${Field} label="Broker"><select value=${broker === null ? '' : String(broker)} onChange=${(e) => setQuery({ broker: e.target.value })}>
        <option value="">All brokers</option>${data.status.brokers.map((b) => html`<option value=${b.broker_id}>${b.broker_id}</option>`)}</select></${Field}>
      <${Field} label="State"><select value=${state} onChange=${(e) => setQuery({ state: e.target.value })}>
        <option value="all">All</option><option value="offline">Offline</option><option value="under-replicated">Under-replicated</option></select></${Field}>
      <${Field} label="Filter by topic"><input type="search" value=${query.q || ''} onInput=${(e) => setQuery({ q: e.target.value }, { replace: true })} /></${Field}>
    </div>
    <p class="muted" aria-live="polite" data-testid="cluster-partitions-count">${fmtNum(shown.length)} of ${fmtNum(data.partitions.length)} partitions</p>
    <${VirtualList} items=${shown} version=${`${shown.length}${state}${needle}${broker}`} row=${row} height=${Math.min(420, 28 * shown.length + 4)} label="Partitions" />
  </div>`;
}

export function Cluster({ route }) {
  const { data, error, reload } = useLoad(() => loadCluster(), []);
  const s = data && data.status;
  return html`<section aria-labelledby="h-cluster">
    <h1 id="h-cluster">Cluster</h1>
    <${ErrorText} error=${error} />
    ${!data && !error ? html`<${Loading} />` : null}
    ${data ? html`<div class="cards">
        <div class="card"><span class="k">Cluster id</span><span class="v small">${s.cluster_id}</span></div>
        <div class="card"><span class="k">Controller</span><span class="v" data-testid="controller-id">${s.controller_id ?? 'none'}</span></div>
        <div class="card"><span class="k">Brokers alive</span><span class="v" data-testid="brokers-alive">${s.brokers.filter((b) => !b.fenced).length}</span>
          <small>${s.brokers.filter((b) => b.fenced).length} fenced</small></div>
        <div class="card"><span class="k">Metadata applied index</span><span class="v">${fmtNum(s.metadata_applied_index)}</span><small>broker ${s.broker_id}</small></div>
        <div class="card"><span class="k">Offline partitions</span><span class=${`v ${s.offline_partitions ? 'error' : ''}`} data-testid="offline-count">${fmtNum(s.offline_partitions)}</span></div>
        <div class="card"><span class="k">Under-replicated</span><span class=${`v ${data.under.length ? 'error' : ''}`} data-testid="under-count">${fmtNum(data.under.length)}</span></div>
      </div>
      <div class="row"><h2 id="h-brokers">Brokers</h2><button type="button" onClick=${() => { forget(); reload(); }}>Refresh</button></div>
      <${Brokers} data=${data} selected=${route.query.broker} />
      <p class="muted">A broker's metadata applied index is reported by that broker (open its UI from its address); its lag,
        in metadata-log entries, by the controller. Partitions and leaders per broker count the replicas the metadata log places on it.</p>
      <${Partitions} data=${data} query=${route.query} />` : null}
  </section>`;
}
