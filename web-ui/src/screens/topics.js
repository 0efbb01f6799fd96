// Topics: the list (filter, partitions, size on disk from /v1/topics/sizes, bytes in since
// start from /metrics), create with
// partitions, replication factor and configs under Kafka's names (errors from the API shown
// inline, "Check" asks the API with validate_only), and one topic's partitions with their
// offsets and sizes, its configs (edit, reset to default) and delete with confirmation.
// URL: #/topics?filter=…  and  #/topics/<topic>?tab=partitions|configs
import { useMemo, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, request, v3, enc, offsets } from '../api.js';
import { sample, total } from '../metrics.js';
import { href, navigate, setQuery } from '../router.js';
import { ErrorText, Field, Loading, useLoad, Confirm, fmtNum, fmtBytes } from '../ui.js';
import { VirtualList } from '../vlist.js';

const KAFKA_CONFIGS = ['cleanup.policy', 'retention.ms', 'retention.bytes', 'segment.bytes', 'segment.ms', 'max.message.bytes',
  'min.insync.replicas', 'flush.messages', 'flush.ms', 'compression.type', 'message.timestamp.type', 'delete.retention.ms',
  'min.compaction.lag.ms', 'index.interval.bytes', 'segment.index.bytes'];

export function Topics({ route }) {
  if (route.args[0]) return html`<${Topic} name=${route.args[0]} query=${route.query} />`;
  return html`<${TopicList} query=${route.query} />`;
}

/** Sizes on disk by topic name, as the answering broker holds them. */
async function sizes() {
  const answer = await get('/v1/topics/sizes');
  return { broker: answer.broker_id, of: new Map(answer.topics.map((t) => [t.topic_name, t])) };
}

async function loadList() {
  const [topics, metrics, size] = await Promise.all([get(await v3('/topics')), sample().catch(() => []), sizes()]);
  const bytes = total(metrics, 'runnel_topic_bytes_in_total', 'topic');
  const rows = topics.data.map((t) => {
    const s = size.of.get(t.topic_name);
    return { ...t, bytes_in: bytes[t.topic_name] || 0, size: s ? s.size_bytes : null, lower: t.topic_name.toLowerCase() };
  });
  rows.sort((a, b) => (a.topic_name < b.topic_name ? -1 : a.topic_name > b.topic_name ? 1 : 0));
  return { rows, broker: size.broker };
}

function TopicList({ query }) {
  const { data, error, reload } = useLoad(loadList, []);
  const filter = query.filter || '';
  const needle = filter.toLowerCase();
  const shown = useMemo(() => (data ? data.rows.filter((t) => t.lower.includes(needle) && (query.internal || !t.is_internal)) : []), [data, needle, query.internal]);
  const row = (t) => html`<div class="vrow">
    <span><a href=${href('topics', [t.topic_name])}>${t.topic_name}</a></span>
    <span>${t.partitions_count} partitions</span>
    <span>RF ${t.replication_factor}</span>
    <span title=${t.size == null ? 'not held by this broker' : `${fmtNum(t.size)} bytes on disk`}>${t.size == null ? '–' : fmtBytes(t.size)} on disk</span>
    <span>${fmtNum(t.bytes_in)} bytes in</span>
    ${t.is_internal ? html`<span class="badge">internal</span>` : null}</div>`;
  return html`<section aria-labelledby="h-topics">
    <h1 id="h-topics">Topics</h1>
    <div class="row">
      <${Field} label="Filter topics"><input type="search" value=${filter} onInput=${(e) => setQuery({ filter: e.target.value }, { replace: true })} /></${Field}>
      <label class="row"><input type="checkbox" checked=${!!query.internal} onChange=${(e) => setQuery({ internal: e.target.checked ? '1' : '' })} /> Show internal topics</label>
    </div>
    <${ErrorText} error=${error} />
    ${data ? html`<p class="muted" data-testid="topics-count">${fmtNum(shown.length)} of ${fmtNum(data.rows.length)} topics. On disk: broker ${data.broker}'s logs. Bytes in: since the broker started (from /metrics).</p>
      <${VirtualList} items=${shown} version=${shown.length + filter} row=${row} height=${Math.min(420, 28 * shown.length + 4)} label="Topic list" />` : html`<${Loading} />`}
    <${CreateTopic} onCreated=${reload} />
  </section>`;
}

function CreateTopic({ onCreated }) {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('1');
  const [rf, setRf] = useState('1');
  const [configs, setConfigs] = useState([]);
  const [error, setError] = useState(null);
  const [note, setNote] = useState('');

  const body = (validateOnly) => ({
    topic_name: name,
    partitions_count: Number(partitions),
    replication_factor: Number(rf),
    configs: configs.filter((c) => c.name).map((c) => ({ name: c.name, value: c.value })),
    validate_only: validateOnly,
  });
  const send = async (validateOnly) => {
    setError(null);
    setNote('');
    try {
      await request('POST', await v3('/topics'), { body: body(validateOnly) });
      if (validateOnly) setNote('The API accepts this topic.');
      else {
        setNote(`Created ${name}.`);
        onCreated();
        navigate('topics', [name]);
      }
    } catch (e) {
      setError(e);
    }
  };
  const setConfig = (i, k, v) => setConfigs(configs.map((c, j) => (j === i ? { ...c, [k]: v } : c)));

  return html`<form class="panel" aria-labelledby="h-create" onSubmit=${(e) => { e.preventDefault(); send(false); }}>
    <h2 id="h-create">Create a topic</h2>
    <${Field} label="Topic name"><input name="topic_name" required value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
    <${Field} label="Partitions"><input name="partitions_count" type="number" min="1" value=${partitions} onInput=${(e) => setPartitions(e.target.value)} /></${Field}>
    <${Field} label="Replication factor"><input name="replication_factor" type="number" min="1" value=${rf} onInput=${(e) => setRf(e.target.value)} /></${Field}>
    <datalist id="kafka-configs">${KAFKA_CONFIGS.map((c) => html`<option value=${c} />`)}</datalist>
    ${configs.map((c, i) => html`<div class="row">
      <${Field} label=${`Config ${i + 1} name`}><input list="kafka-configs" value=${c.name} onInput=${(e) => setConfig(i, 'name', e.target.value)} /></${Field}>
      <${Field} label=${`Config ${i + 1} value`}><input value=${c.value} onInput=${(e) => setConfig(i, 'value', e.target.value)} /></${Field}>
      <button type="button" onClick=${() => setConfigs(configs.filter((_, j) => j !== i))}>Remove config ${i + 1}</button></div>`)}
    <div class="row">
      <button type="button" onClick=${() => setConfigs([...configs, { name: '', value: '' }])}>Add a config</button>
      <button type="button" onClick=${() => send(true)}>Check</button>
      <button type="submit" class="primary">Create topic</button>
    </div>
    <${ErrorText} error=${error} id="create-error" />
    ${note ? html`<p class="ok" role="status">${note}</p>` : null}
  </form>`;
}

async function loadTopic(name) {
  const t = await get(await v3(`/topics/${enc(name)}`));
  const parts = await get(await v3(`/topics/${enc(name)}/partitions`));
  const [withOffsets, size] = await Promise.all([
    Promise.all(parts.data.map(async (p) => ({ ...p, ...(await offsets(name, p.partition_id)) }))),
    sizes(),
  ]);
  const mine = size.of.get(name);
  const bytes = new Map((mine ? mine.partitions : []).map((p) => [p.partition_id, p.size_bytes]));
  return { topic: t, partitions: withOffsets.map((p) => ({ ...p, size: bytes.get(p.partition_id) ?? null })), size: mine ? mine.size_bytes : null, broker: size.broker };
}

function Topic({ name, query }) {
  const tab = query.tab || 'partitions';
  const { data, error } = useLoad(() => loadTopic(name), [name]);
  const [confirm, setConfirm] = useState(false);
  const [delError, setDelError] = useState(null);
  const del = async () => {
    try {
      await request('DELETE', await v3(`/topics/${enc(name)}`));
      setConfirm(false);
      navigate('topics');
    } catch (e) {
      setDelError(e);
    }
  };
  return html`<section aria-labelledby="h-topic">
    <p><a href=${href('topics')}>← Topics</a></p>
    <h1 id="h-topic">Topic ${name}</h1>
    <div class="row">
      <a href=${href('messages', [name])}>Browse messages</a>
      <a href=${href('tail', [name])}>Live tail</a>
      <button type="button" class="danger" onClick=${() => { setDelError(null); setConfirm(true); }}>Delete topic</button>
    </div>
    <${Confirm} open=${confirm} title=${`Delete topic ${name}?`} onCancel=${() => setConfirm(false)} onConfirm=${del} error=${delError}>
      <p>Every record in it is removed. This cannot be undone.</p></${Confirm}>
    <div class="row" role="tablist" aria-label="Topic views">
      ${['partitions', 'configs'].map((t) => html`<a role="tab" aria-selected=${tab === t ? 'true' : 'false'} href=${href('topics', [name], { tab: t })}>${t === 'partitions' ? 'Partitions' : 'Configs'}</a>`)}
    </div>
    <${ErrorText} error=${error} />
    ${tab === 'configs' ? html`<${Configs} name=${name} />` : data ? html`<div class="table-wrap"><table>
      <caption class="muted">${data.topic.partitions_count} partitions, replication factor ${data.topic.replication_factor}${data.size == null ? '' : html`, <span data-testid="topic-size" title=${`${fmtNum(data.size)} bytes`}>${fmtBytes(data.size)}</span> on disk (broker ${data.broker}'s logs)`}</caption>
      <thead><tr><th scope="col">Partition</th><th scope="col">Leader</th><th scope="col" class="num">Earliest offset</th><th scope="col" class="num">Latest offset</th><th scope="col" class="num">Records</th><th scope="col" class="num">Size on disk</th><th scope="col"></th></tr></thead>
      <tbody>${data.partitions.map((p) => html`<tr>
        <td>${p.partition_id}</td><td>${p.leader && p.leader.related ? p.leader.related.split('/').pop() : '–'}</td>
        <td class="num">${fmtNum(p.earliest)}</td><td class="num">${fmtNum(p.latest)}</td><td class="num">${fmtNum(p.latest - p.earliest)}</td>
        <td class="num" title=${p.size == null ? '' : `${fmtNum(p.size)} bytes`}>${p.size == null ? '–' : fmtBytes(p.size)}</td>
        <td><a href=${href('messages', [name], { partition: p.partition_id, from: 'earliest' })}>Browse</a></td></tr>`)}</tbody></table></div>` : html`<${Loading} />`}
  </section>`;
}

function Configs({ name }) {
  const { data, error, reload } = useLoad(async () => (await get(await v3(`/topics/${enc(name)}/configs`))).data, [name]);
  const [edits, setEdits] = useState({});
  const [errors, setErrors] = useState({});
  const act = async (cfg, method) => {
    setErrors({ ...errors, [cfg]: null });
    try {
      const path = await v3(`/topics/${enc(name)}/configs/${enc(cfg)}`);
      if (method === 'PUT') await request('PUT', path, { body: { value: edits[cfg] } });
      else await request('DELETE', path);
      setEdits({ ...edits, [cfg]: undefined });
      reload();
    } catch (e) {
      setErrors({ ...errors, [cfg]: e });
    }
  };
  if (error) return html`<${ErrorText} error=${error} />`;
  if (!data) return html`<${Loading} />`;
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Config</th><th scope="col">Value</th><th scope="col">Source</th><th scope="col">Actions</th></tr></thead>
    <tbody>${data.map((c) => html`<tr>
      <td><code>${c.name}</code></td>
      <td><input aria-label=${`Value of ${c.name}`} value=${edits[c.name] ?? c.value ?? ''} disabled=${c.is_read_only}
        onInput=${(e) => setEdits({ ...edits, [c.name]: e.target.value })} />
        <${ErrorText} error=${errors[c.name]} /></td>
      <td>${c.is_default ? 'default' : c.source}</td>
      <td><button type="button" aria-label=${`Save ${c.name}`} disabled=${edits[c.name] === undefined} onClick=${() => act(c.name, 'PUT')}>Save</button>
        ${c.is_default ? null : html` <button type="button" aria-label=${`Reset ${c.name} to default`} onClick=${() => act(c.name, 'DELETE')}>Reset</button>`}</td></tr>`)}</tbody></table></div>`;
}
