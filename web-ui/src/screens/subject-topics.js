// A subject's topics (part of Schemas): which topics use it under the TopicNameStrategy
// (`<topic>-value` for values, `<topic>-key` for keys), and how many records carry each schema
// id among a topic's recent records (the latest few per partition, Confluent-framed values or
// keys, magic byte 0 and a 4-byte id).
import { html } from '../html.js';
import { get, v3, enc, offsets, fromBase64, V2_BINARY, SR } from '../api.js';
import { href } from '../router.js';
import { ErrorText, Loading, useLoad, fmtNum } from '../ui.js';
import { schemaId } from '../format.js';

/** Recent records read per partition. */
const SAMPLE = 200;

/** The topic and the record part a subject names under the TopicNameStrategy, or null. */
export function topicOf(subject) {
  const m = /^(.+)-(value|key)$/.exec(subject);
  return m ? { topic: m[1], part: m[2] } : null;
}

/** Schema id → records among the latest SAMPLE of each partition of `topic`. */
async function countIds(topic, part) {
  const parts = (await get(await v3(`/topics/${enc(topic)}/partitions`))).data;
  const counts = new Map();
  let read = 0;
  await Promise.all(parts.map(async (p) => {
    const o = await offsets(topic, p.partition_id);
    const start = Math.max(o.earliest, o.latest - SAMPLE);
    if (start >= o.latest) return;
    const batch = await get(`/topics/${enc(topic)}/partitions/${p.partition_id}/records?offset=${start}&max_bytes=${1 << 20}&timeout=0`, { accept: V2_BINARY });
    for (const r of batch) {
      if (r.offset >= o.latest) continue;
      read += 1;
      const id = schemaId(fromBase64(part === 'key' ? r.key : r.value));
      counts.set(id, (counts.get(id) || 0) + 1);
    }
  }));
  return { read, counts: [...counts.entries()].sort((a, b) => b[1] - a[1]) };
}

async function load(subject) {
  const named = topicOf(subject);
  const [topics, ids] = await Promise.all([
    get(await v3('/topics')),
    get(`/subjects/${enc(subject)}/versions?deleted=true`, { accept: SR }).then((vs) => Promise.all(vs.map(
      (v) => get(`/subjects/${enc(subject)}/versions/${v}?deleted=true`, { accept: SR }).then((s) => [s.id, s.version]),
    ))),
  ]);
  const exists = named && topics.data.some((t) => t.topic_name === named.topic);
  const versionOf = new Map(ids);
  return { named, exists, versionOf, sample: exists ? await countIds(named.topic, named.part) : null };
}

export function SubjectTopics({ subject }) {
  const { data, error } = useLoad(() => load(subject), [subject]);
  if (error) return html`<${ErrorText} error=${error} />`;
  if (!data) return html`<${Loading} />`;
  const { named, exists, versionOf, sample } = data;
  if (!named) {
    return html`<p class="muted">${subject} is not named after a topic (TopicNameStrategy: <code>topic-value</code> or <code>topic-key</code>):
      records name it by schema id only, so no topic is known to use it.</p>`;
  }
  if (!exists) return html`<p class="muted" data-testid="subject-topics">Named for the ${named.part}s of topic <code>${named.topic}</code>, which does not exist.</p>`;
  return html`<div data-testid="subject-topics">
    <p>The ${named.part}s of topic <a href=${href('topics', [named.topic])}>${named.topic}</a> use this subject (TopicNameStrategy).</p>
    <table><caption class="muted">Schema ids of the ${named.part}s among the ${fmtNum(sample.read)} most recent records (up to ${SAMPLE} per partition)</caption>
      <thead><tr><th scope="col">Schema id</th><th scope="col">Version of ${subject}</th><th scope="col" class="num">Records</th></tr></thead>
      <tbody>${sample.counts.map(([id, n]) => html`<tr>
        <td>${id === null ? 'none (not Confluent-framed)' : id}</td>
        <td>${id === null ? '–' : versionOf.has(id) ? `v${versionOf.get(id)}` : 'another subject'}</td>
        <td class="num">${fmtNum(n)}</td></tr>`)}</tbody></table>
    <p><a href=${href('messages', [named.topic])}>Browse its messages</a></p>
  </div>`;
}
