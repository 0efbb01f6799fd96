// The web UI driven as a user would, in Debian's headless chromium, against a real
// `runnel serve` (scripts/ui-test.sh starts it and sets RUNNEL_URL). One browser, one page, the
// steps in order: each builds on the state the one before left. Any console error, page error,
// failed request or unexpected HTTP error fails the step it happened in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, trackedPage, axeViolations, api, clusterId, produceJson, latestOffsets, BASE, ARTIFACTS } from './harness.js';

const TOPIC = 'ui-orders';
const SUBJECT = `${TOPIC}-value`;
const SCHEMA_V1 = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'item', type: 'string' }] };
const SCHEMA_V2 = { ...SCHEMA_V1, fields: [...SCHEMA_V1.fields, { name: 'note', type: ['null', 'string'], default: null }] };
// Incompatible with v2 under BACKWARD: `id` changes from long to string.
const SCHEMA_BAD = { ...SCHEMA_V1, fields: [{ name: 'id', type: 'string' }, { name: 'item', type: 'string' }] };

let browser;
let tab;
let page;
const ui = (hash) => `${BASE}/ui/${hash}`;

before(async () => {
  browser = await launch();
  tab = await trackedPage(browser);
  page = tab.page;
  page.setDefaultTimeout(15000);
});

after(async () => {
  if (browser) await browser.close();
});

function noProblems() {
  const found = tab.problems.splice(0);
  tab.clearExpected();
  assert.deepEqual(found, [], 'console errors, failed requests or HTTP errors');
}

/** Polls `fn` until it is truthy (the UI updates asynchronously); fails after `ms`, saying `what` (or what it answers). */
async function eventually(fn, ms = 10000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${typeof what === 'function' ? await what() : what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function count(testId) {
  const text = await page.getByTestId(testId).textContent();
  return Number(text.replace(/[^\d]/g, ''));
}

test('a browser asking for / is sent to the UI; API clients keep {}', async () => {
  await page.goto(`${BASE}/`);
  assert.match(page.url(), /\/ui\/$/);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
  console.log(`# first contentful paint of /ui/: ${fcp === undefined ? 'not reported' : `${fcp.toFixed(0)} ms`}`);
  const res = await fetch(`${BASE}/`, { headers: { Accept: 'application/json' } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
  noProblems();
});

test('create a topic, with the API\'s validation error shown inline first', async () => {
  await page.goto(ui('#/topics'));
  await page.getByLabel('Topic name').fill(TOPIC);
  await page.getByLabel('Partitions').fill('2');
  await page.getByRole('button', { name: 'Add a config' }).click();
  await page.getByLabel('Config 1 name').fill('cleanup.policy');
  await page.getByLabel('Config 1 value').fill('sometimes');
  tab.expect('/topics');
  await page.getByRole('button', { name: 'Create topic' }).click();
  const error = page.locator('#create-error');
  await error.waitFor();
  assert.match(await error.textContent(), /cleanup\.policy/);
  tab.problems.splice(0);
  tab.clearExpected();

  await page.getByLabel('Config 1 value').fill('delete');
  await page.getByRole('button', { name: 'Create topic' }).click();
  await page.getByRole('heading', { name: `Topic ${TOPIC}` }).waitFor();
  await eventually(async () => (await page.locator('tbody tr').count()) === 2, 10000, 'two partitions');
  await page.getByRole('tab', { name: 'Configs' }).click();
  await page.getByLabel('Value of retention.ms').fill('3600000');
  await page.getByRole('button', { name: 'Save retention.ms' }).click();
  await page.getByRole('button', { name: 'Reset retention.ms to default' }).waitFor();
  assert.equal(await page.getByLabel('Value of retention.ms').inputValue(), '3600000');
  await page.getByRole('button', { name: 'Reset retention.ms to default' }).click();
  await eventually(async () => (await page.getByRole('button', { name: 'Reset retention.ms to default' }).count()) === 0, 5000, 'the reset');
  assert.equal(await page.getByLabel('Value of retention.ms').inputValue(), '604800000');
  noProblems();
});

test('produce a JSON record and an Avro record typed against the subject\'s schema', async () => {
  await api('POST', `/subjects/${SUBJECT}/versions`, { schema: JSON.stringify(SCHEMA_V1) }, 'application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry.v1+json');
  await page.goto(ui(`#/messages/${TOPIC}`));
  await page.getByLabel('Value (JSON)').fill('{"order": 1, "item": "tea"}');
  await page.getByLabel('Key (text, optional)').fill('first');
  await page.getByLabel('Headers (one name=value per line)').fill('source=ui-test');
  await page.getByRole('button', { name: 'Produce' }).click();
  await page.getByText(/Produced to partition \d+ at offset 0/).waitFor();

  await page.getByLabel('Value type').selectOption('AVRO');
  await page.getByLabel('id (long)').waitFor();
  await page.getByLabel('id (long)').fill('not a number');
  await page.getByLabel('item (string)').fill('coffee');
  await page.getByRole('button', { name: 'Produce' }).click();
  assert.match(await page.locator('#produce-error').textContent(), /Field id must be an integer/);
  await page.getByLabel('id (long)').fill('42');
  await page.getByRole('button', { name: 'Produce' }).click();
  await page.getByText(/Produced to partition \d+ at offset/).waitFor();
  noProblems();
});

test('see both records in the message browser, filter them and export them', async () => {
  await page.goto(ui(`#/messages/${TOPIC}?mode=offset&from=earliest`));
  const records = page.locator('li.msg');
  await eventually(async () => (await records.count()) === 2, 10000, 'two records');
  const text = await page.locator('ol.records').textContent();
  assert.match(text, /"item": "tea"/);
  assert.match(text, /"item": "coffee"/);
  assert.match(text, /avro · schema id \d+ \(ui-orders-value v1\)/);
  assert.match(text, /source=ui-test/);

  // From a time: a minute ago finds both; an hour ahead finds none.
  await page.goto(ui(`#/messages/${TOPIC}?mode=timestamp&ts=${new Date(Date.now() - 60000).toISOString()}`));
  await eventually(async () => (await records.count()) === 2, 10000, 'two records from a minute ago');
  await page.goto(ui(`#/messages/${TOPIC}?mode=timestamp&ts=${new Date(Date.now() + 3600000).toISOString()}`));
  await page.getByText('0 of 0 records shown.').waitFor();
  // The latest 1 per partition: both again (they are in different partitions, or the newest).
  await page.goto(ui(`#/messages/${TOPIC}?mode=latest&n=1&partition=all`));
  await eventually(async () => (await records.count()) >= 1, 10000, 'the latest record');

  await page.goto(ui(`#/messages/${TOPIC}?mode=offset&from=earliest`));
  await eventually(async () => (await records.count()) === 2, 10000, 'two records');
  await page.getByLabel('Filter key, value, headers').fill('coffee');
  await eventually(async () => (await records.count()) === 1, 5000, 'the filter');
  assert.match(page.url(), /q=coffee/, 'the filter is in the URL');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(exported.length, 1);
  assert.match(exported[0].value, /coffee/);
  noProblems();
});

test('the live tail shows records, and a paused tail shows none of 1,000 new ones until resumed', async () => {
  await page.goto(ui(`#/tail/${TOPIC}?from=earliest`));
  await eventually(async () => (await count('tail-count')) === 2, 10000, 'the two records in the tail');
  assert.match(await page.getByTestId('tail-status').textContent(), /Live/);

  await page.getByRole('button', { name: 'Pause' }).click();
  const rowsBefore = await page.locator('.vlist .vrow').count();
  const before = await latestOffsets(TOPIC);
  await produceJson(TOPIC, 1000, { perRequest: 250 });
  assert.equal(await latestOffsets(TOPIC), before + 1000);
  await page.waitForTimeout(1500); // time for anything the server would send to arrive
  assert.equal(await count('tail-count'), 2, 'no record appears while paused');
  assert.equal(await page.locator('.vlist .vrow').count(), rowsBefore);

  await page.getByRole('button', { name: 'Resume' }).click();
  await eventually(async () => (await count('tail-count')) === 1002, 15000, 'all 1,002 records after resume');
  noProblems();
});

test('register a second version, see the diff, and a failing compatibility check naming the field', async () => {
  await page.goto(ui(`#/schemas?q=ui-orders`));
  await page.getByRole('link', { name: SUBJECT }).click();
  await page.getByLabel('Avro schema (JSON)').fill(JSON.stringify(SCHEMA_V2));
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByText(/Registered with schema id/).waitFor();

  await page.getByRole('tab', { name: 'Diff' }).click();
  const diff = page.getByTestId('schema-diff');
  await diff.waitFor();
  assert.match(await diff.locator('.add').first().textContent(), /\+/);
  assert.match(await diff.textContent(), /"note"/);
  assert.match(page.url(), /tab=diff/);

  await page.getByRole('tab', { name: 'Compatibility check' }).click();
  await page.getByLabel('Schema to check (Avro JSON)').fill(JSON.stringify(SCHEMA_BAD));
  await page.getByRole('button', { name: 'Check compatibility' }).click();
  const result = page.getByTestId('compat-result');
  await result.waitFor();
  const text = await result.textContent();
  assert.match(text, /Not compatible/);
  assert.match(text, /\bid\b/, `the message names the field: ${text}`);
  noProblems();
});

test('a compatibility check under a level other than the subject\'s, and the topics that use the subject', async () => {
  // A new field without a default: BACKWARD (the subject's level) refuses it and names it;
  // FORWARD accepts it; the subject's level stays BACKWARD.
  const extra = { ...SCHEMA_V2, fields: [...SCHEMA_V2.fields, { name: 'extra', type: 'string' }] };
  await page.goto(ui(`#/schemas/${SUBJECT}?tab=compat`));
  await page.getByLabel('Schema to check (Avro JSON)').fill(JSON.stringify(extra));
  await page.getByRole('button', { name: 'Check compatibility' }).click();
  const result = page.getByTestId('compat-result');
  await result.waitFor();
  let text = await result.textContent();
  assert.match(text, /Not compatible under BACKWARD/);
  assert.match(text, /'extra'/, `the message names the field: ${text}`);

  await page.getByLabel('Under level').selectOption('FORWARD');
  assert.match(page.url(), /level=FORWARD/, 'the level is in the URL');
  await page.getByRole('button', { name: 'Check compatibility' }).click();
  await result.waitFor();
  assert.match(await result.textContent(), /^Compatible under FORWARD/);

  await page.getByLabel('Under level').selectOption('FULL_TRANSITIVE');
  await page.getByLabel('Check against').selectOption('all');
  await page.getByRole('button', { name: 'Check compatibility' }).click();
  await result.waitFor();
  text = await result.textContent();
  assert.match(text, /Not compatible under FULL_TRANSITIVE/);
  assert.match(text, /'extra'/);
  const level = await api('GET', `/config/${SUBJECT}?defaultToGlobal=true`, undefined, 'application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry.v1+json');
  assert.equal(level.compatibilityLevel, 'BACKWARD', 'a check changes no level');

  // The Avro record produced earlier is older than the sample (the tail test added 1,000 JSON
  // records since): one more, framed with version 1's schema id, lands in it.
  const sr = 'application/vnd.schemaregistry.v1+json';
  const v1 = await api('GET', `/subjects/${SUBJECT}/versions/1`, undefined, sr, sr);
  await api('POST', `/topics/${TOPIC}`, { value_schema_id: v1.id, records: [{ value: { id: 7, item: 'tea' } }] },
    'application/vnd.kafka.avro.v2+json', 'application/vnd.kafka.v2+json');
  await page.getByRole('tab', { name: 'Topics' }).click();
  const topics = page.getByTestId('subject-topics');
  await topics.waitFor();
  await eventually(async () => /none \(not Confluent-framed\)/.test(await topics.textContent()), 10000, 'the schema id counts');
  text = await topics.textContent();
  assert.match(text, new RegExp(`values of topic ${TOPIC} use this subject`));
  const rows = await topics.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.ok(rows.some(([id, version, n]) => id === String(v1.id) && version === 'v1' && Number(n) >= 1), `a record framed with version 1's id: ${JSON.stringify(rows)}`);
  await topics.getByRole('link', { name: TOPIC }).click();
  await page.getByRole('heading', { name: `Topic ${TOPIC}` }).waitFor();
  noProblems();
});

test('topic sizes on disk: the list and the topic\'s partitions', async () => {
  const sizes = await api('GET', '/v1/topics/sizes');
  const mine = sizes.topics.find((t) => t.topic_name === TOPIC);
  assert.ok(mine && mine.size_bytes > 0, 'the API reports bytes for a topic with records');
  await page.goto(ui(`#/topics?filter=${TOPIC}`));
  const row = page.locator('.vrow', { hasText: TOPIC }).first();
  await row.waitFor();
  assert.match(await row.textContent(), /\d+(\.\d)? (B|KiB|MiB) on disk/);
  await page.goto(ui(`#/topics/${TOPIC}`));
  const total = page.getByTestId('topic-size');
  await total.waitFor();
  assert.equal(await total.getAttribute('title'), `${mine.size_bytes.toLocaleString('en')} bytes`);
  const cells = await page.locator('tbody tr td:nth-child(6)').allTextContents();
  assert.equal(cells.length, 2);
  assert.ok(cells.some((c) => /\d/.test(c) && !/^0 B$/.test(c)), `a partition with records has a size: ${cells}`);
  noProblems();
});

test('the cluster screen: brokers, the controller, the metadata log, partitions per broker', async () => {
  const status = await api('GET', '/v1/cluster');
  await page.goto(ui('#/cluster'));
  await page.getByRole('heading', { name: 'Cluster', exact: true }).waitFor();
  assert.equal(await page.getByTestId('controller-id').textContent(), String(status.controller_id));
  assert.equal(Number(await page.getByTestId('brokers-alive').textContent()), status.brokers.filter((b) => !b.fenced).length);
  assert.equal(await page.getByTestId('offline-count').textContent(), '0');
  assert.equal(await page.getByTestId('under-count').textContent(), '0');
  const row = page.locator(`tr[data-broker="${status.broker_id}"]`);
  const text = await row.textContent();
  assert.match(text, /controller/);
  assert.match(text, /alive/);
  assert.match(text, new RegExp(status.brokers[0].url.replace(/[.:/]/g, '\\$&')));
  assert.ok(/\d/.test(await row.locator('td:nth-child(6)').textContent()), 'the applied index is shown');
  assert.equal(await page.getByTestId(`lag-${status.broker_id}`).textContent(), `${status.brokers[0].metadata_lag} entries`, 'the controller reports its own lag');
  const held = Number((await row.locator('td:nth-child(8)').textContent()).replace(/[^\d]/g, ''));
  assert.ok(held >= 2, `broker ${status.broker_id} holds the topic's two partitions (and more): ${held}`);

  // Keyboard: Tab to the broker's partitions link, Enter follows it; the URL holds the choice.
  await page.getByRole('link', { name: `Partitions of broker ${status.broker_id}` }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: `Partitions of broker ${status.broker_id}` }).waitFor();
  assert.match(page.url(), new RegExp(`broker=${status.broker_id}`));
  await page.getByLabel('Filter by topic').fill(TOPIC);
  await eventually(async () => /^2 of /.test(await page.getByTestId('cluster-partitions-count').textContent()), 5000, 'the topic filter');
  assert.match(page.url(), new RegExp(`q=${TOPIC}`));
  await page.getByLabel('State').selectOption('offline');
  await eventually(async () => /^0 of /.test(await page.getByTestId('cluster-partitions-count').textContent()), 5000, 'no offline partition');
  await page.goBack();
  await eventually(async () => /^2 of /.test(await page.getByTestId('cluster-partitions-count').textContent()), 5000, 'back to all states');

  await page.goto(ui('#/overview'));
  await eventually(async () => (await page.getByTestId('overview-offline').count()) === 1, 10000, 'the overview\'s cluster figures');
  assert.equal(await page.getByTestId('overview-offline').textContent(), '0');
  assert.equal(await page.getByTestId('overview-under').textContent(), '0');
  noProblems();
});

test('the cluster screen marks a fenced broker, an offline and an under-replicated partition', async () => {
  // One node cannot fence a broker or lose a replica, so the API's answers are altered on their
  // way to the page: broker 2 is registered and fenced, ui-orders has replication factor 2,
  // partition 0 has broker 2 out of its ISR and partition 1 has no leader.
  for (const scheme of ['light', 'dark']) {
    const degraded = await trackedPage(browser, { colorScheme: scheme });
    try {
      const p = degraded.page;
      await p.route(/\/v1\/cluster$/, async (r) => {
        const res = await r.fetch();
        const body = await res.json();
        body.brokers.push({ broker_id: 2, url: 'http://127.0.0.1:9', cluster_addr: '127.0.0.1:10', epoch: 7, fenced: true, metadata_lag: 12 });
        body.offline_partitions = 1;
        await r.fulfill({ response: res, json: body });
      });
      await p.route(/\/v3\/clusters\/[^/]+\/topics$/, async (r) => {
        const res = await r.fetch();
        const body = await res.json();
        for (const t of body.data) if (t.topic_name === TOPIC) t.replication_factor = 2;
        await r.fulfill({ response: res, json: body });
      });
      await p.route(new RegExp(`/topics/${TOPIC}/partitions$`), async (r) => {
        const res = await r.fetch();
        const body = await res.json();
        for (const part of body.data) if (part.partition_id === 1) part.leader = null;
        await r.fulfill({ response: res, json: body });
      });
      await p.route(new RegExp(`/topics/${TOPIC}/partitions/(\\d+)/replicas$`), async (r) => {
        const partition = Number(/partitions\/(\d+)\/replicas$/.exec(r.request().url())[1]);
        const replicas = partition === 0
          ? [{ broker_id: 1, is_leader: true, is_in_sync: true }, { broker_id: 2, is_leader: false, is_in_sync: false }]
          : [{ broker_id: 2, is_leader: false, is_in_sync: false }];
        await r.fulfill({ json: { kind: 'KafkaReplicaList', metadata: {}, data: replicas } });
      });
      await p.goto(ui('#/cluster'));
      await p.getByTestId('offline-count').waitFor();
      assert.equal(await p.getByTestId('offline-count').textContent(), '1');
      assert.equal(await p.getByTestId('under-count').textContent(), '1');
      assert.equal(await p.getByTestId('brokers-alive').textContent(), '1');
      const fenced = p.locator('tr[data-broker="2"]');
      assert.match(await fenced.textContent(), /fenced/);
      assert.equal(await p.getByTestId('lag-2').textContent(), '12 entries');
      assert.equal(await fenced.locator('td:nth-child(8)').textContent(), '2', 'broker 2 holds both partitions');
      assert.equal(await fenced.locator('td:nth-child(9)').textContent(), '0', 'and leads none');
      await p.getByLabel('State').selectOption('under-replicated');
      await eventually(async () => /^1 of /.test(await p.getByTestId('cluster-partitions-count').textContent()), 5000, 'one under-replicated partition');
      assert.match(await p.locator('.vlist').textContent(), new RegExp(`${TOPIC} / 0.*replicas 1,2.*ISR 1.*under-replicated`));
      await p.getByLabel('State').selectOption('offline');
      await eventually(async () => /^1 of /.test(await p.getByTestId('cluster-partitions-count').textContent()), 5000, 'one offline partition');
      assert.match(await p.locator('.vlist').textContent(), new RegExp(`${TOPIC} / 1.*leader none.*offline`));
      await p.screenshot({ path: `${ARTIFACTS}/cluster-degraded-${scheme}.png`, fullPage: true });
      assert.deepEqual(await axeViolations(p), [], `axe on the degraded cluster (${scheme})`);
      await p.goto(ui('#/overview'));
      await p.getByTestId('overview-offline').waitFor();
      assert.equal(await p.getByTestId('overview-offline').textContent(), '1');
      assert.equal(await p.getByTestId('overview-under').textContent(), '1');
      assert.deepEqual(degraded.problems, []);
    } finally {
      await degraded.context.close();
    }
  }
});

test('consume with a group and see its lag fall to zero; then preview and apply a reset', async () => {
  const group = 'ui-group';
  const total = await latestOffsets(TOPIC);
  const created = await api('POST', `/consumers/${group}`, { name: 'c1', format: 'binary', 'auto.offset.reset': 'earliest' }, 'application/vnd.kafka.v2+json', 'application/vnd.kafka.v2+json');
  const base = new URL(created.base_uri).pathname;
  await api('POST', `${base}/subscription`, { topics: [TOPIC] }, 'application/vnd.kafka.v2+json', 'application/vnd.kafka.v2+json');
  // Read one record and commit it: the group now has offsets and lag.
  const poll = () => api('GET', `${base}/records?timeout=1000`, undefined, 'application/vnd.kafka.v2+json', 'application/vnd.kafka.binary.v2+json');
  let first = [];
  await eventually(async () => (first = await poll()).length > 0, 15000, 'the first poll');
  await api('POST', `${base}/offsets`, { offsets: [{ topic: TOPIC, partition: first[0].partition, offset: first[0].offset }] }, 'application/vnd.kafka.v2+json', 'application/vnd.kafka.v2+json');

  await page.goto(ui(`#/groups`));
  await page.getByRole('link', { name: group }).click();
  await eventually(async () => (await count('total-lag')) > 0, 10000, 'a lag above zero');
  const lagBefore = await count('total-lag');

  let read = first.length;
  while (read < total) read += (await poll()).length;
  await api('POST', `${base}/offsets`, undefined, 'application/vnd.kafka.v2+json', 'application/vnd.kafka.v2+json');
  await eventually(async () => (await count('total-lag')) === 0, 15000, 'the lag to reach zero');
  assert.ok(lagBefore > 0);

  await api('DELETE', base, undefined, 'application/vnd.kafka.v2+json', 'application/vnd.kafka.v2+json');
  await page.getByLabel('Reset to').selectOption('earliest');
  await page.getByRole('button', { name: 'Preview' }).click();
  const preview = page.getByTestId('reset-preview');
  await preview.waitFor();
  assert.match(await preview.textContent(), /not applied yet/);
  assert.equal(await count('total-lag'), 0, 'a preview changes nothing');
  await page.getByRole('button', { name: 'Apply reset' }).click();
  await page.getByText(/Reset applied/).waitFor();
  await eventually(async () => (await count('total-lag')) === total, 10000, 'the lag back to every record');
  noProblems();
});

test('a lost WebSocket reconnects with back-off and says so', async () => {
  const drop = await trackedPage(browser);
  try {
    let connections = 0;
    await drop.page.routeWebSocket(/\/v1\/ws\/consume/, (ws) => {
      connections += 1;
      ws.connectToServer();
      // The first connection is cut by "the network" once it is up; later ones pass.
      if (connections === 1) setTimeout(() => ws.close({ code: 4000, reason: 'cut by the test' }), 500);
    });
    await drop.page.goto(ui(`#/tail/${TOPIC}?from=earliest`));
    const status = drop.page.getByTestId('tail-status');
    await eventually(async () => /Connection lost \(cut by the test\); reconnecting in 0\.5 s/.test(await status.textContent()), 10000, 'the lost connection to be shown');
    await eventually(async () => /Live/.test(await status.textContent()), 10000, 'the reconnection');
    assert.equal(connections, 2);
    assert.deepEqual(drop.problems, []);
  } finally {
    await drop.context.close();
  }
});

test('delete a topic and a schema subject, each only after confirming', async () => {
  const cid = await clusterId();
  await api('POST', `/v3/clusters/${cid}/topics`, { topic_name: 'ui-doomed', partitions_count: 1 });
  await page.goto(ui('#/topics/ui-doomed'));
  await page.getByRole('button', { name: 'Delete topic' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.ok((await api('GET', '/topics')).includes('ui-doomed'), 'cancel keeps the topic');
  await page.getByRole('button', { name: 'Delete topic' }).click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Topics' }).waitFor();
  assert.ok(!(await api('GET', '/topics')).includes('ui-doomed'), 'the topic is gone');

  const subject = 'ui-doomed-value';
  const sr = 'application/vnd.schemaregistry.v1+json';
  await api('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(SCHEMA_V1) }, sr, sr);
  await api('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(SCHEMA_V2) }, sr, sr);
  await page.goto(ui(`#/schemas/${subject}?v=1`));
  await page.getByRole('button', { name: 'Soft delete version 1' }).click();
  await dialog.getByRole('button', { name: 'Soft delete' }).click();
  await dialog.waitFor({ state: 'hidden' }); // closed once the API answered, before the URL moves on
  await page.locator('select[name=version]').selectOption('1');
  await page.getByRole('button', { name: 'Permanently delete version 1' }).click();
  await dialog.getByRole('button', { name: 'Delete permanently' }).click();
  await eventually(async () => JSON.stringify(await api('GET', `/subjects/${subject}/versions?deleted=true`, undefined, sr, sr)) === '[2]', 5000, 'version 1 gone for good');

  tab.expect(`/subjects/${subject}`); // once soft-deleted, the subject's live versions answer 404
  await page.getByRole('button', { name: 'Soft delete subject' }).click();
  await dialog.getByRole('button', { name: 'Soft delete' }).click();
  await eventually(async () => !(await api('GET', '/subjects', undefined, sr, sr)).includes(subject), 5000, 'the soft delete');
  await page.getByRole('button', { name: 'Permanently delete subject' }).click();
  await dialog.getByRole('button', { name: 'Delete permanently' }).click();
  await page.getByRole('heading', { name: 'Schemas' }).waitFor();
  assert.ok(!(await api('GET', '/subjects?deleted=true', undefined, sr, sr)).includes(subject), 'the subject is gone for good');
  noProblems();
});

const SCREENS = [
  ['overview', '#/overview'],
  ['topics', '#/topics'],
  ['topic', `#/topics/${TOPIC}`],
  ['topic-configs', `#/topics/${TOPIC}?tab=configs`],
  ['messages', `#/messages/${TOPIC}?mode=offset&from=earliest&n=20`],
  ['tail', `#/tail/${TOPIC}?from=earliest`],
  ['schemas', '#/schemas'],
  ['schema', `#/schemas/${SUBJECT}`],
  ['schema-diff', `#/schemas/${SUBJECT}?tab=diff`],
  ['schema-config', `#/schemas/${SUBJECT}?tab=config`],
  ['schema-compat', `#/schemas/${SUBJECT}?tab=compat&level=FORWARD`],
  ['schema-topics', `#/schemas/${SUBJECT}?tab=topics`],
  ['groups', '#/groups'],
  ['group', '#/groups/ui-group'],
  ['cluster', '#/cluster'],
  ['cluster-broker', '#/cluster?broker=1&q=ui-'],
];

for (const scheme of ['light', 'dark']) {
  test(`every screen in ${scheme}: a screenshot, and no serious or critical axe violation`, async () => {
    const themed = await trackedPage(browser, { colorScheme: scheme });
    try {
      for (const [name, hash] of SCREENS) {
        await themed.page.goto(ui(hash));
        await themed.page.locator('main h1').waitFor();
        await themed.page.waitForLoadState('networkidle').catch(() => {});
        await themed.page.waitForTimeout(300);
        assert.equal(await themed.page.evaluate(() => document.documentElement.dataset.theme), scheme);
        await themed.page.screenshot({ path: `${ARTIFACTS}/${name}-${scheme}.png`, fullPage: true });
        assert.deepEqual(await axeViolations(themed.page), [], `axe on ${name} (${scheme})`);
      }
      assert.deepEqual(themed.problems, []);
    } finally {
      await themed.context.close();
    }
  });
}

test('readable on a phone (390×844): screenshots', async () => {
  const phone = await trackedPage(browser, { viewport: { width: 390, height: 844 } });
  try {
    for (const [name, hash] of SCREENS.filter(([n]) => ['overview', 'topic', 'messages', 'schema-diff', 'group', 'cluster'].includes(n))) {
      await phone.page.goto(ui(hash));
      await phone.page.locator('main h1').waitFor();
      await phone.page.waitForTimeout(300);
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${name} scrolls sideways by ${overflow}px`);
      await phone.page.screenshot({ path: `${ARTIFACTS}/${name}-phone.png`, fullPage: true });
    }
    assert.deepEqual(phone.problems, []);
  } finally {
    await phone.context.close();
  }
});

test('the theme can be switched, and keyboard shortcuts move between screens', async () => {
  await page.goto(ui('#/overview'));
  await page.getByLabel('Theme').selectOption('dark');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.keyboard.press('Alt+5');
  await page.getByRole('heading', { name: 'Schemas' }).waitFor();
  await page.keyboard.press('Alt+7');
  await page.getByRole('heading', { name: 'Cluster', exact: true }).waitFor();
  await page.goBack();
  await page.getByRole('heading', { name: 'Schemas' }).waitFor();
  await page.goBack();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByLabel('Theme').selectOption('system');
  noProblems();
});

test('a live tail at a high rate never blocks the page for more than 200 ms', async () => {
  // The issue's figure is 10,000 records/s for 10 s; two producers pace themselves towards it
  // (a 2-core box with a debug server may fall short: the rate reached is printed, not asserted).
  const topic = 'ui-load';
  const seconds = 10;
  const perSecond = 10000;
  const cid = await clusterId();
  await api('POST', `/v3/clusters/${cid}/topics`, { topic_name: topic, partitions_count: 2 });
  const perf = await trackedPage(browser);
  try {
    await perf.page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    await perf.page.goto(ui(`#/tail/${topic}?from=latest`));
    await eventually(async () => /Live/.test(await perf.page.getByTestId('tail-status').textContent()), 10000, 'the tail to connect');
    await perf.page.evaluate(() => { window.__longTasks = []; });
    const heap = () => perf.page.evaluate(() => performance.memory ? performance.memory.usedJSHeapSize : 0);
    const heapBefore = await heap();

    const total = seconds * perSecond;
    const batch = 1000;
    const started = Date.now();
    await Promise.all([0, 1].map(async (w) => {
      for (let i = 0; i < total / 2 / batch; i++) {
        // Pace: batch i of this producer is due at i * (2 * batch / perSecond) seconds.
        const due = started + (i * 2 * batch * 1000) / perSecond;
        if (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
        await produceJson(topic, batch, { perRequest: batch, value: (n) => ({ worker: w, n, pad: 'x'.repeat(40) }) });
      }
    }));
    const produceSeconds = (Date.now() - started) / 1000;
    await eventually(async () => Number((await perf.page.getByTestId('tail-count').textContent()).replace(/[^\d]/g, '')) === total, 90000, 'every record in the tail');
    const shownSeconds = (Date.now() - started) / 1000;
    const longTasks = await perf.page.evaluate(() => window.__longTasks);
    const dropped = Number((await perf.page.getByTestId('tail-dropped').textContent()).replace(/[^\d]/g, ''));
    const heapAfter = await heap();
    const max = longTasks.length ? Math.max(...longTasks) : 0;
    console.log(`# live tail: ${total} records produced in ${produceSeconds.toFixed(1)} s (${Math.round(total / produceSeconds)} records/s offered), `
      + `all through the tail after ${shownSeconds.toFixed(1)} s; long tasks: ${longTasks.length}, longest ${max.toFixed(0)} ms; `
      + `${dropped} dropped from view; JS heap ${(heapBefore / 1e6).toFixed(1)} MB before, ${(heapAfter / 1e6).toFixed(1)} MB after`);
    assert.ok(dropped > 0, 'the ring buffer bounds what is kept');
    assert.ok(max <= 200, `a long task took ${max} ms`);
    assert.deepEqual(perf.problems, []);
  } finally {
    await perf.context.close();
  }
});

test('the message browser over 100,000 records: filtering and scrolling stay under 200 ms a task', async () => {
  // Runs after the live-tail test, whose topic now holds 100,000 records in two partitions.
  const perf = await trackedPage(browser);
  try {
    await perf.page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    await perf.page.goto(ui('#/messages/ui-load?mode=latest&n=1000'));
    await perf.page.getByText(/of 2000 records shown/).waitFor({ timeout: 30000 });
    const loading = await perf.page.evaluate(() => window.__longTasks.splice(0));
    await perf.page.getByLabel('Filter key, value, headers').pressSequentially('"n": 99', { delay: 30 });
    await perf.page.getByText(/records shown/).waitFor();
    await perf.page.getByLabel('Filter key, value, headers').fill('');
    for (let i = 0; i < 10; i++) await perf.page.mouse.wheel(0, 2000);
    await perf.page.getByRole('button', { name: /Show 200 more/ }).click();
    await perf.page.waitForTimeout(300);
    const interacting = await perf.page.evaluate(() => window.__longTasks);
    const max = (a) => (a.length ? Math.max(...a) : 0).toFixed(0);
    console.log(`# message browser, 2,000 of 100,000 records: longest task while loading ${max(loading)} ms (${loading.length} over 50 ms); `
      + `while filtering, scrolling and drawing more ${max(interacting)} ms (${interacting.length} over 50 ms)`);
    assert.ok(Number(max(interacting)) <= 200, `a long task took ${max(interacting)} ms`);
    assert.deepEqual(perf.problems, []);
  } finally {
    await perf.context.close();
  }
});

/**
 * Opens the topics list in a fresh page, waits for `expected` topics, then types a filter,
 * clears it and scrolls the list; answers the long tasks (ms) while loading and while interacting.
 * `route` may rewrite the API's answers before the page opens.
 */
async function measureTopicList(expected, route) {
  const perf = await trackedPage(browser);
  try {
    await perf.page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    if (route) await route(perf.page);
    const started = Date.now();
    await perf.page.goto(ui('#/topics'));
    const count = perf.page.getByTestId('topics-count');
    await eventually(async () => (await count.count()) === 1 && new RegExp(`of ${expected.toLocaleString('en')} topics`).test(await count.textContent()), 60000,
      async () => `${expected} topics listed (the page shows: ${await count.count() ? await count.textContent() : await perf.page.locator('main').textContent()})`);
    const loadMs = Date.now() - started;
    const loading = await perf.page.evaluate(() => window.__longTasks.splice(0));
    const filter = perf.page.getByLabel('Filter topics');
    // scale-00100 … scale-00199 match, whatever the number of topics.
    await filter.pressSequentially('scale-001', { delay: 30 });
    await eventually(async () => /^100 of /.test(await count.textContent()), 5000, 'the filter to apply');
    await filter.fill('');
    await perf.page.locator('.vlist').hover();
    for (let i = 0; i < 20; i++) await perf.page.mouse.wheel(0, 3000);
    await perf.page.waitForTimeout(300);
    assert.ok(await perf.page.locator('.vlist .vrow').count() < 100, 'only the rows in view are drawn');
    const interacting = await perf.page.evaluate(() => window.__longTasks);
    assert.deepEqual(perf.problems, []);
    return { loadMs, loading, interacting };
  } finally {
    await perf.context.close();
  }
}

test('the topics list with thousands of topics: filtering and scrolling stay under 200 ms a task', async () => {
  // Creating a topic commits it through the metadata log (an fsync each), so by default the
  // test creates UI_SCALE_TOPICS=500 real topics and measures the
  // list with them, then with 5,000 (the real answers of /v3/.../topics and /v1/topics/sizes
  // padded to 5,000 entries on their way to the page). UI_SCALE_TOPICS=5000 creates all 5,000.
  const real = Number(process.env.UI_SCALE_TOPICS || 500);
  const cid = await clusterId();
  const before = (await api('GET', `/v3/clusters/${cid}/topics`)).data.length;
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < real) {
      const i = next++;
      await api('POST', `/v3/clusters/${cid}/topics`, { topic_name: `scale-${String(i).padStart(5, '0')}`, partitions_count: 1 });
    }
  }));
  const createSeconds = (Date.now() - started) / 1000;
  // The API lists them all, steadily for 2 s, before the page is asked to: a server still
  // catching up is not the page's slowness. (Before main's 11e650c a broker applying an older
  // metadata image dropped just-created topics and re-created them: the list shrank and grew
  // back for a while after the last create.)
  let steady = 0;
  await eventually(async () => {
    steady = (await api('GET', `/v3/clusters/${cid}/topics`)).data.length === before + real ? steady + 1 : 0;
    if (steady < 8) await new Promise((r) => setTimeout(r, 150));
    return steady >= 8;
  }, 180000, 'the API to list every topic steadily');
  const listedSeconds = (Date.now() - started) / 1000;
  const max = (a) => (a.length ? Math.max(...a) : 0);
  const report = (label, r) => console.log(`# topics list, ${label}: shown ${r.loadMs} ms after opening; longest task while loading ${max(r.loading).toFixed(0)} ms; `
    + `while filtering and scrolling ${max(r.interacting).toFixed(0)} ms (${r.interacting.length} over 50 ms)`);

  const realRun = await measureTopicList(before + real);
  console.log(`# ${real} topics created through the API in ${createSeconds.toFixed(1)} s (all listed by it after ${listedSeconds.toFixed(1)} s)`);
  report(`${(before + real).toLocaleString('en')} real topics`, realRun);
  assert.ok(max(realRun.interacting) <= 200, `a long task took ${max(realRun.interacting)} ms`);

  // The cluster screen walks every topic's partitions (a request each, 8 at a time).
  const walk = await trackedPage(browser);
  try {
    await walk.page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    const opened = Date.now();
    await walk.page.goto(ui('#/cluster'));
    await walk.page.getByTestId('cluster-partitions-count').waitFor({ timeout: 60000 });
    const walkMs = Date.now() - opened;
    const tasks = await walk.page.evaluate(() => window.__longTasks);
    console.log(`# cluster screen over ${(before + real).toLocaleString('en')} topics: partitions walked and shown after ${walkMs} ms; longest task ${max(tasks).toFixed(0)} ms`);
    assert.ok(max(tasks) <= 200, `a long task took ${max(tasks)} ms`);
    assert.deepEqual(walk.problems, []);
  } finally {
    await walk.context.close();
  }

  const target = 5000;
  if (before + real >= target) return;
  const pad = (list, make) => {
    const out = list.slice();
    for (let i = 0; out.length < target; i++) out.push(make(i));
    return out;
  };
  const padded = await measureTopicList(target, async (p) => {
    await p.route(/\/v3\/clusters\/[^/]+\/topics$/, async (r) => {
      const res = await r.fetch();
      const body = await res.json();
      const model = body.data.find((t) => t.topic_name.startsWith('scale-'));
      body.data = pad(body.data, (i) => ({ ...model, topic_name: `scale-padded-${String(i).padStart(5, '0')}` }));
      await r.fulfill({ response: res, json: body });
    });
    await p.route(/\/v1\/topics\/sizes$/, async (r) => {
      const res = await r.fetch();
      const body = await res.json();
      body.topics = pad(body.topics, (i) => ({ topic_name: `scale-padded-${String(i).padStart(5, '0')}`, size_bytes: i * 1000, partitions: [{ partition_id: 0, size_bytes: i * 1000 }] }));
      await r.fulfill({ response: res, json: body });
    });
  });
  report('5,000 topics (padded answers)', padded);
  assert.ok(max(padded.interacting) <= 200, `a long task took ${max(padded.interacting)} ms`);
});
