// Schemas: subjects with search; a subject's versions, each schema pretty-printed; a
// side-by-side diff of any two versions (jsdiff); a compatibility check of a pasted schema
// against any version (or all the level requires) under the subject's level or any other
// (the registry's `?level=`), showing the registry's messages, which name the field; the
// subject's compatibility level and mode; the topics that use it (subject-topics.js); register
// a version; soft and permanent delete with confirmation.
// URL: #/schemas?q=&deleted=1  and
//      #/schemas/<subject>?tab=schema|diff|compat|config|topics&v=&a=&b=&against=&level=
import { useState } from 'preact/hooks';
import { diffLines } from 'diff/line';
import { html } from '../html.js';
import { get, request, enc, SR } from '../api.js';
import { href, navigate, setQuery } from '../router.js';
import { ErrorText, Field, Loading, useLoad, Confirm } from '../ui.js';
import { SubjectTopics } from './subject-topics.js';

const LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];
const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'];
const sr = (method, path, body) => request(method, path, { body, accept: SR, contentType: SR });

function pretty(schema) {
  try {
    return JSON.stringify(JSON.parse(schema), null, 2);
  } catch {
    return schema;
  }
}

export function Schemas({ route }) {
  if (route.args[0]) return html`<${Subject} subject=${route.args[0]} query=${route.query} />`;
  return html`<${SubjectList} query=${route.query} />`;
}

function SubjectList({ query }) {
  const { data, error } = useLoad(() => get(`/subjects${query.deleted ? '?deleted=true' : ''}`, { accept: SR }), [query.deleted]);
  const needle = (query.q || '').toLowerCase();
  const shown = (data || []).filter((s) => s.toLowerCase().includes(needle)).sort();
  return html`<section aria-labelledby="h-schemas">
    <h1 id="h-schemas">Schemas</h1>
    <div class="row">
      <${Field} label="Search subjects"><input type="search" value=${query.q || ''} onInput=${(e) => setQuery({ q: e.target.value }, { replace: true })} /></${Field}>
      <label class="row"><input type="checkbox" checked=${!!query.deleted} onChange=${(e) => setQuery({ deleted: e.target.checked ? '1' : '' })} /> Include soft-deleted</label>
    </div>
    <${ErrorText} error=${error} />
    ${data ? html`<p class="muted">${shown.length} of ${data.length} subjects</p>
      <ul class="subjects">${shown.map((s) => html`<li><a href=${href('schemas', [s])}>${s}</a></li>`)}</ul>` : html`<${Loading} />`}
    <${Register} />
  </section>`;
}

function Register({ subject: fixed, onDone }) {
  const [subject, setSubject] = useState(fixed || '');
  const [schema, setSchema] = useState('');
  const [error, setError] = useState(null);
  const [note, setNote] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setNote('');
    try {
      const r = await sr('POST', `/subjects/${enc(subject)}/versions`, { schema, schemaType: 'AVRO' });
      setNote(`Registered with schema id ${r.id}.`);
      if (onDone) onDone();
      else navigate('schemas', [subject]);
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="panel" aria-labelledby="h-register" onSubmit=${submit}>
    <h2 id="h-register">Register ${fixed ? 'a new version' : 'a schema'}</h2>
    ${fixed ? null : html`<${Field} label="Subject"><input name="subject" required value=${subject} onInput=${(e) => setSubject(e.target.value)} /></${Field}>`}
    <${Field} label="Avro schema (JSON)"><textarea name="schema" rows="6" required value=${schema} onInput=${(e) => setSchema(e.target.value)}></textarea></${Field}>
    <div class="row"><button type="submit" class="primary">Register</button></div>
    <${ErrorText} error=${error} id="register-error" />
    ${note ? html`<p class="ok" role="status">${note}</p>` : null}
  </form>`;
}

function Subject({ subject, query }) {
  const tab = query.tab || 'schema';
  const versions = useLoad(() => get(`/subjects/${enc(subject)}/versions?deleted=true`, { accept: SR }), [subject]);
  const live = useLoad(() => get(`/subjects/${enc(subject)}/versions`, { accept: SR }).catch(() => []), [subject]);
  const [confirm, setConfirm] = useState(null);
  const [delError, setDelError] = useState(null);
  const reload = () => { versions.reload(); live.reload(); };
  const del = async () => {
    try {
      const permanent = confirm === 'permanent' ? '?permanent=true' : '';
      await sr('DELETE', `/subjects/${enc(subject)}${permanent}`);
      setConfirm(null);
      if (confirm === 'permanent') navigate('schemas');
      else reload();
    } catch (e) {
      setDelError(e);
    }
  };
  const vs = versions.data || [];
  const tabs = [['schema', 'Versions'], ['diff', 'Diff'], ['compat', 'Compatibility check'], ['config', 'Config and mode'], ['topics', 'Topics']];
  return html`<section aria-labelledby="h-subject">
    <p><a href=${href('schemas')}>← Subjects</a></p>
    <h1 id="h-subject">Subject ${subject}</h1>
    <div class="row">
      <button type="button" class="danger" onClick=${() => { setDelError(null); setConfirm('soft'); }}>Soft delete subject</button>
      <button type="button" class="danger" onClick=${() => { setDelError(null); setConfirm('permanent'); }}>Permanently delete subject</button>
    </div>
    <${Confirm} open=${!!confirm} title=${`${confirm === 'permanent' ? 'Permanently delete' : 'Soft delete'} ${subject}?`} confirmLabel=${confirm === 'permanent' ? 'Delete permanently' : 'Soft delete'}
      onCancel=${() => setConfirm(null)} onConfirm=${del} error=${delError}>
      <p>${confirm === 'permanent' ? 'Removes every version and its schema ids for good; only a soft-deleted subject can be deleted permanently.' : 'Hides every version; schema ids stay readable, so old records still decode.'}</p></${Confirm}>
    <div class="row" role="tablist" aria-label="Subject views">
      ${tabs.map(([t, label]) => html`<a role="tab" aria-selected=${tab === t ? 'true' : 'false'} href=${href('schemas', [subject], { ...query, tab: t })}>${label}</a>`)}
    </div>
    <${ErrorText} error=${versions.error} />
    ${!versions.data && !versions.error ? html`<${Loading} />` : null}
    ${versions.data && tab === 'schema' ? html`<${Versions} subject=${subject} versions=${vs} live=${live.data || []} query=${query} onChange=${reload} />` : null}
    ${versions.data && tab === 'diff' ? html`<${Diff} subject=${subject} versions=${vs} query=${query} />` : null}
    ${versions.data && tab === 'compat' ? html`<${Compat} subject=${subject} versions=${live.data || []} query=${query} />` : null}
    ${tab === 'config' ? html`<${Config} subject=${subject} />` : null}
    ${tab === 'topics' ? html`<${SubjectTopics} subject=${subject} />` : null}
  </section>`;
}

function Versions({ subject, versions, live, query, onChange }) {
  const v = query.v || String(versions[versions.length - 1] || 'latest');
  const schema = useLoad(() => get(`/subjects/${enc(subject)}/versions/${enc(v)}?deleted=true`, { accept: SR }), [subject, v]);
  const [confirm, setConfirm] = useState(null);
  const [error, setError] = useState(null);
  const soft = live.includes(Number(v));
  const del = async () => {
    try {
      await sr('DELETE', `/subjects/${enc(subject)}/versions/${enc(v)}${confirm === 'permanent' ? '?permanent=true' : ''}`);
      setConfirm(null);
      setQuery({ v: '' });
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  return html`<div>
    <div class="row">
      <${Field} label="Version"><select name="version" value=${v} onChange=${(e) => setQuery({ v: e.target.value })}>
        ${versions.map((n) => html`<option value=${n}>${n}${live.includes(n) ? '' : ' (soft-deleted)'}</option>`)}</select></${Field}>
      ${soft ? html`<button type="button" class="danger" onClick=${() => { setError(null); setConfirm('soft'); }}>Soft delete version ${v}</button>`
        : html`<button type="button" class="danger" onClick=${() => { setError(null); setConfirm('permanent'); }}>Permanently delete version ${v}</button>`}
    </div>
    <${Confirm} open=${!!confirm} title=${`${confirm === 'permanent' ? 'Permanently delete' : 'Soft delete'} version ${v} of ${subject}?`}
      confirmLabel=${confirm === 'permanent' ? 'Delete permanently' : 'Soft delete'} onCancel=${() => setConfirm(null)} onConfirm=${del} error=${error}>
      <p>${confirm === 'permanent' ? 'Its schema id stops resolving: records written with it no longer decode.' : 'Hidden from reads; its schema id stays resolvable.'}</p></${Confirm}>
    <${ErrorText} error=${schema.error} />
    ${schema.data ? html`<p class="muted">Schema id ${schema.data.id}, version ${schema.data.version}, ${schema.data.schemaType || 'AVRO'}</p>
      <pre aria-label="Schema">${pretty(schema.data.schema)}</pre>` : null}
    <${Register} subject=${subject} onDone=${onChange} />
  </div>`;
}

/** Two columns of lines, aligned: removed lines on the left, added on the right, padding opposite. */
function sideBySide(a, b) {
  const left = [];
  const right = [];
  for (const part of diffLines(a, b)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    if (part.added) lines.forEach((l) => { right.push({ cls: 'add', text: `+ ${l}` }); });
    else if (part.removed) lines.forEach((l) => { left.push({ cls: 'del', text: `- ${l}` }); });
    else {
      while (left.length < right.length) left.push({ cls: 'pad', text: ' ' });
      while (right.length < left.length) right.push({ cls: 'pad', text: ' ' });
      lines.forEach((l) => { left.push({ cls: '', text: `  ${l}` }); right.push({ cls: '', text: `  ${l}` }); });
    }
  }
  while (left.length < right.length) left.push({ cls: 'pad', text: ' ' });
  while (right.length < left.length) right.push({ cls: 'pad', text: ' ' });
  return [left, right];
}

function Diff({ subject, versions, query }) {
  const a = query.a || String(versions[Math.max(0, versions.length - 2)] || '');
  const b = query.b || String(versions[versions.length - 1] || '');
  const load = useLoad(async () => Promise.all([a, b].map((v) => get(`/subjects/${enc(subject)}/versions/${enc(v)}?deleted=true`, { accept: SR }))), [subject, a, b]);
  let cols = null;
  if (load.data) cols = sideBySide(pretty(load.data[0].schema), pretty(load.data[1].schema));
  const col = (lines, label) => html`<pre aria-label=${label}>${lines.map((l) => html`<span class=${`line ${l.cls}`}>${l.text}</span>`)}</pre>`;
  return html`<div>
    <div class="row">
      <${Field} label="Left version"><select value=${a} onChange=${(e) => setQuery({ a: e.target.value, b })}>${versions.map((n) => html`<option value=${n}>${n}</option>`)}</select></${Field}>
      <${Field} label="Right version"><select value=${b} onChange=${(e) => setQuery({ a, b: e.target.value })}>${versions.map((n) => html`<option value=${n}>${n}</option>`)}</select></${Field}>
    </div>
    <${ErrorText} error=${load.error} />
    ${cols ? html`<div class="diff" data-testid="schema-diff">${col(cols[0], `Version ${a}`)}${col(cols[1], `Version ${b}`)}</div>` : null}
  </div>`;
}

function Compat({ subject, versions, query }) {
  const [schema, setSchema] = useState('');
  const against = query.against || 'latest';
  const chosen = query.level || '';
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const level = useLoad(() => get(`/config/${enc(subject)}?defaultToGlobal=true`, { accept: SR }), [subject]);
  const own = level.data ? level.data.compatibilityLevel : '…';
  const check = async (e) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    try {
      const base = against === 'all' ? `/compatibility/subjects/${enc(subject)}/versions` : `/compatibility/subjects/${enc(subject)}/versions/${enc(against)}`;
      const answer = await sr('POST', `${base}?verbose=true${chosen ? `&level=${enc(chosen)}` : ''}`, { schema, schemaType: 'AVRO' });
      setResult({ ...answer, level: chosen || own });
    } catch (err) {
      setError(err);
    }
  };
  const change = (changes) => { setResult(null); setQuery(changes, { replace: true }); };
  return html`<form class="panel" aria-label="Compatibility check" onSubmit=${check}>
    <p class="muted">The subject's level is <strong>${own}</strong> (change it under
      <a href=${href('schemas', [subject], { tab: 'config' })}>Config and mode</a>); a check may use any other without changing it.</p>
    <div class="row">
      <${Field} label="Check against"><select value=${against} onChange=${(e) => change({ against: e.target.value })}>
        <option value="latest">latest</option><option value="all">every version the level requires</option>
        ${versions.map((n) => html`<option value=${n}>version ${n}</option>`)}</select></${Field}>
      <${Field} label="Under level"><select value=${chosen} onChange=${(e) => change({ level: e.target.value })}>
        <option value="">the subject's (${own})</option>${LEVELS.map((l) => html`<option value=${l}>${l}</option>`)}</select></${Field}>
    </div>
    <${Field} label="Schema to check (Avro JSON)"><textarea name="candidate" rows="8" value=${schema} onInput=${(e) => setSchema(e.target.value)}></textarea></${Field}>
    <div class="row"><button type="submit" class="primary">Check compatibility</button></div>
    <${ErrorText} error=${error} />
    ${result ? html`<div role="status" data-testid="compat-result">
      <p class=${result.is_compatible ? 'ok' : 'error'}>${result.is_compatible ? 'Compatible' : 'Not compatible'} under ${result.level}</p>
      ${(result.messages || []).length ? html`<ul>${result.messages.map((m) => html`<li>${describe(m)}</li>`)}</ul>` : null}</div>` : null}
  </form>`;
}

/**
 * A registry message made readable: Confluent's verbose form is
 * `{errorType:'…', description:'…', additionalInfo:'…'}`; the description names the field.
 */
function describe(message) {
  const m = /description:'(.*)', additionalInfo:'(.*)'\}$/.exec(message);
  const type = /errorType:'([A-Z_]+)'/.exec(message);
  if (!m) return message;
  return html`${m[1]} <span class="muted">(${type ? `${type[1]}: ` : ''}${m[2]})</span>`;
}

function Config({ subject }) {
  const level = useLoad(() => get(`/config/${enc(subject)}?defaultToGlobal=true`, { accept: SR }), [subject]);
  const mode = useLoad(() => get(`/mode/${enc(subject)}?defaultToGlobal=true`, { accept: SR }), [subject]);
  const [errors, setErrors] = useState({});
  const put = async (what, body, reload) => {
    setErrors({ ...errors, [what]: null });
    try {
      await sr('PUT', `/${what}/${enc(subject)}`, body);
      reload();
    } catch (e) {
      setErrors({ ...errors, [what]: e });
    }
  };
  return html`<div class="panel">
    <${Field} label="Compatibility level"><select value=${level.data ? level.data.compatibilityLevel : ''} onChange=${(e) => put('config', { compatibility: e.target.value }, level.reload)}>
      ${LEVELS.map((l) => html`<option value=${l}>${l}</option>`)}</select></${Field}>
    <${ErrorText} error=${errors.config || level.error} />
    <${Field} label="Mode"><select value=${mode.data ? mode.data.mode : ''} onChange=${(e) => put('mode', { mode: e.target.value }, mode.reload)}>
      ${MODES.map((m) => html`<option value=${m}>${m}</option>`)}</select></${Field}>
    <${ErrorText} error=${errors.mode || mode.error} />
  </div>`;
}
