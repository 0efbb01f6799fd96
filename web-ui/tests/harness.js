// What every browser test needs: Debian's chromium through playwright-core (never a browser
// download), a page that records console errors, page errors and failed requests (the tests
// fail on any that was not expected), axe-core's serious and critical violations, screenshots
// into the artifacts directory, and a few calls to Runnel's HTTP API for setting things up.
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
export const BASE = process.env.RUNNEL_URL || 'http://127.0.0.1:8080';
export const ARTIFACTS = process.env.UI_ARTIFACTS || '/tmp/ui-artifacts';

// The flags this machine needs: no background connections (the network is closed), a fresh
// profile (playwright gives each launch its own user-data-dir).
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
}

/**
 * A page with problem tracking: `problems` lists every console error, uncaught exception,
 * failed request and HTTP error answer, except those `expect(pattern)` announced beforehand.
 */
export async function trackedPage(browser, { colorScheme = 'light', viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ colorScheme, viewport, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  const expected = [];
  const isExpected = (url) => expected.some((p) => url.includes(p));
  page.on('console', (m) => {
    if (m.type() === 'error' && !isExpected(m.location().url || '')) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A navigation cancels requests still in flight (a long-poll, a metrics sample): not a failure.
    if (r.failure() && r.failure().errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !isExpected(r.url())) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return {
    context,
    page,
    problems,
    expect: (pattern) => expected.push(pattern),
    clearExpected: () => expected.splice(0),
  };
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ path: AXE_PATH });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

export async function api(method, path, body, contentType = 'application/json', accept = 'application/json') {
  const res = await fetch(BASE + path, {
    method,
    headers: { 'Content-Type': contentType, Accept: accept },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return data;
}

export async function clusterId() {
  return (await api('GET', '/v3/clusters')).data[0].cluster_id;
}

/** Produces `count` JSON records to `topic` through v2, `perRequest` at a time. */
export async function produceJson(topic, count, { perRequest = 500, value = (i) => ({ n: i }) } = {}) {
  for (let done = 0; done < count; done += perRequest) {
    const records = [];
    for (let i = done; i < Math.min(count, done + perRequest); i++) records.push({ key: `k${i}`, value: value(i) });
    await api('POST', `/topics/${encodeURIComponent(topic)}`, { records }, 'application/vnd.kafka.json.v2+json', 'application/vnd.kafka.v2+json');
  }
}

export async function latestOffsets(topic) {
  const cid = await clusterId();
  const parts = (await api('GET', `/v3/clusters/${cid}/topics/${topic}/partitions`)).data;
  let total = 0;
  for (const p of parts) {
    total += (await api('GET', `/v3/clusters/${cid}/topics/${topic}/partitions/${p.partition_id}/offset?offset_type=earliest_and_latest`)).latest_offset;
  }
  return total;
}
