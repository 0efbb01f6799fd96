// Rates from `/metrics`: the Prometheus text carries per-topic counters
// (runnel_topic_records_in_total{topic="t"}, ..._out_total, bytes likewise); sampling it every
// few seconds and differencing gives records in/out per second, with no endpoint of the UI's own.
import { get } from './api.js';

/** Parses Prometheus text into [{name, labels, value}] (counters and gauges only need this). */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** Sums a metric over all label sets, optionally by one label. */
export function total(metrics, name, byLabel) {
  if (!byLabel) return metrics.filter((m) => m.name === name).reduce((a, m) => a + m.value, 0);
  const by = {};
  for (const m of metrics) if (m.name === name) by[m.labels[byLabel]] = (by[m.labels[byLabel]] || 0) + m.value;
  return by;
}

export async function sample() {
  const text = await get('/metrics', { accept: 'text/plain' });
  return parseMetrics(typeof text === 'string' ? text : '');
}

/**
 * A rate sampler kept across screen changes: one sample every `every` ms, the last `keep`
 * points of records in/out per second.
 */
const history = { xs: [], inRate: [], outRate: [], last: null, timer: null, listeners: new Set(), metrics: [] };
const EVERY_MS = 3000;
const KEEP = 100; // five minutes at one point per three seconds

async function tick() {
  try {
    const metrics = await sample();
    const now = Date.now() / 1000;
    const recIn = total(metrics, 'runnel_topic_records_in_total');
    const recOut = total(metrics, 'runnel_topic_records_out_total');
    if (history.last) {
      const dt = now - history.last.t;
      history.xs.push(now);
      history.inRate.push(Math.max(0, (recIn - history.last.recIn) / dt));
      history.outRate.push(Math.max(0, (recOut - history.last.recOut) / dt));
      if (history.xs.length > KEEP) for (const a of [history.xs, history.inRate, history.outRate]) a.shift();
    }
    history.last = { t: now, recIn, recOut };
    history.metrics = metrics;
    history.error = null;
  } catch (e) {
    history.error = e;
  }
  for (const l of history.listeners) l();
}

export function subscribeRates(listener) {
  history.listeners.add(listener);
  if (!history.timer) {
    tick();
    history.timer = setInterval(tick, EVERY_MS);
  }
  return () => history.listeners.delete(listener);
}

export function rates() {
  return history;
}
