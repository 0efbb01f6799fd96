// Produce one record through v3 `POST …/topics/{t}/records`: a JSON, text or Avro value (the
// Avro form is built from the chosen subject's schema and validated before sending), an
// optional key, partition and headers. The API's answer (offset, or its message) is shown here.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, request, v3, enc, toBase64, SR } from '../api.js';
import { ErrorText, Field, useLoad } from '../ui.js';
import { AvroFields, toAvro } from '../avroform.js';

export function ProduceForm({ topic }) {
  const [type, setType] = useState('JSON');
  const [key, setKey] = useState('');
  const [value, setValue] = useState('{"hello": "world"}');
  const [partition, setPartition] = useState('');
  const [headers, setHeaders] = useState('');
  const [subject, setSubject] = useState(`${topic}-value`);
  const [fields, setFields] = useState({});
  const [error, setError] = useState(null);
  const [result, setResult] = useState('');
  const subjects = useLoad(() => get('/subjects', { accept: SR }), []);
  const schema = useLoad(async () => {
    if (type !== 'AVRO' || !subject) return null;
    const s = await get(`/subjects/${enc(subject)}/versions/latest`, { accept: SR });
    return { ...s, parsed: JSON.parse(s.schema) };
  }, [type, subject]);

  const send = async (e) => {
    e.preventDefault();
    setError(null);
    setResult('');
    const record = {};
    try {
      if (partition !== '') record.partition_id = Number(partition);
      if (key !== '') record.key = { type: 'STRING', data: key };
      const hs = headers.split('\n').map((l) => l.trim()).filter(Boolean);
      if (hs.length) record.headers = hs.map((l) => { const i = l.indexOf('='); return { name: i < 0 ? l : l.slice(0, i), value: toBase64(i < 0 ? '' : l.slice(i + 1)) }; });
      if (type === 'JSON') {
        try { record.value = { type: 'JSON', data: JSON.parse(value) }; } catch (err) { throw new Error(`The value is not JSON: ${err.message}`); }
      } else if (type === 'STRING') record.value = { type: 'STRING', data: value };
      else {
        if (!schema.data) throw new Error(`Subject ${subject} has no schema to type the record against.`);
        record.value = { subject, schema_version: schema.data.version, data: toAvro(schema.data.parsed, fields) };
      }
    } catch (err) {
      setError({ message: err.message });
      return;
    }
    try {
      const r = await request('POST', await v3(`/topics/${enc(topic)}/records`), { body: record });
      if (r && r.error_code && r.error_code !== 200) throw { message: r.message, code: r.error_code };
      setResult(`Produced to partition ${r.partition_id} at offset ${r.offset}.`);
    } catch (err) {
      setError(err);
    }
  };

  return html`<form class="panel" aria-labelledby="h-produce" onSubmit=${send}>
    <h2 id="h-produce">Produce a record to ${topic}</h2>
    <div class="row">
      <${Field} label="Value type"><select name="value_type" value=${type} onChange=${(e) => setType(e.target.value)}>
        <option value="JSON">JSON</option><option value="STRING">Text</option><option value="AVRO">Avro (schema registry)</option></select></${Field}>
      <${Field} label="Key (text, optional)"><input name="key" value=${key} onInput=${(e) => setKey(e.target.value)} /></${Field}>
      <${Field} label="Partition (optional)"><input name="partition" type="number" min="0" value=${partition} onInput=${(e) => setPartition(e.target.value)} /></${Field}>
    </div>
    ${type === 'AVRO' ? html`<div>
      <${Field} label="Subject"><input name="subject" list="subjects" value=${subject} onChange=${(e) => setSubject(e.target.value)} /></${Field}>
      <datalist id="subjects">${(subjects.data || []).map((s) => html`<option value=${s} />`)}</datalist>
      <${ErrorText} error=${schema.error} />
      ${schema.data ? html`<p class="muted">Schema id ${schema.data.id}, version ${schema.data.version}</p>
        <${AvroFields} schema=${schema.data.parsed} values=${fields} onChange=${setFields} />` : null}
    </div>` : html`<${Field} label=${type === 'JSON' ? 'Value (JSON)' : 'Value (text)'}><textarea name="value" rows="4" value=${value} onInput=${(e) => setValue(e.target.value)}></textarea></${Field}>`}
    <${Field} label="Headers (one name=value per line)"><textarea name="headers" rows="2" value=${headers} onInput=${(e) => setHeaders(e.target.value)}></textarea></${Field}>
    <div class="row"><button type="submit" class="primary">Produce</button></div>
    <${ErrorText} error=${error} id="produce-error" />
    ${result ? html`<p class="ok" role="status">${result}</p>` : null}
  </form>`;
}
