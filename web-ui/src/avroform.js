// A form built from an Avro schema: one labelled control per field (records nest, enums are
// selects, booleans checkboxes, `["null", T]` unions optional, arrays and maps as JSON text),
// and a validator that turns the form's strings into Avro's JSON encoding or names the field
// that does not fit, before anything is sent.
import { html } from './html.js';
import { Field } from './ui.js';

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

function resolve(type, named) {
  if (typeof type === 'string' && named[type]) return named[type];
  if (type && typeof type === 'object' && !Array.isArray(type) && type.name) named[type.name] = type;
  return type;
}

function optional(type) {
  return Array.isArray(type) && type.length === 2 && type.includes('null') ? type.find((t) => t !== 'null') : null;
}

function typeName(t) {
  return typeof t === 'string' ? t : Array.isArray(t) ? 'union' : t.type;
}

/** The controls for `schema` (a parsed record schema); `values` maps dotted paths to strings. */
export function AvroFields({ schema, values, onChange, named = {}, prefix = '' }) {
  const record = resolve(schema, named);
  if (!record || record.type !== 'record') return html`<p class="muted">Only record schemas get a form.</p>`;
  return html`<fieldset><legend>${record.name}</legend>${record.fields.map((f) => {
    const path = prefix + f.name;
    const opt = optional(f.type);
    const type = resolve(opt || f.type, named);
    const label = `${f.name} (${typeName(type)}${opt ? ', optional' : ''})`;
    const value = values[path] ?? '';
    const set = (v) => onChange({ ...values, [path]: v });
    const kind = typeName(type);
    if (kind === 'record') return html`<${AvroFields} schema=${type} values=${values} onChange=${onChange} named=${named} prefix=${`${path}.`} />`;
    if (kind === 'enum') return html`<${Field} label=${label}><select name=${path} value=${value} onChange=${(e) => set(e.target.value)}>
      ${opt ? html`<option value="">(null)</option>` : null}${type.symbols.map((s) => html`<option value=${s}>${s}</option>`)}</select></${Field}>`;
    if (kind === 'boolean') return html`<${Field} label=${label}><input type="checkbox" name=${path} checked=${value === 'true'} onChange=${(e) => set(String(e.target.checked))} /></${Field}>`;
    const numeric = ['int', 'long', 'float', 'double'].includes(kind);
    const hint = ['array', 'map', 'union', 'fixed', 'bytes'].includes(kind) ? 'JSON (Avro encoding)' : undefined;
    return html`<${Field} label=${label} hint=${hint}><input name=${path} inputmode=${numeric ? 'decimal' : undefined} value=${value} onInput=${(e) => set(e.target.value)} /></${Field}>`;
  })}</fieldset>`;
}

/** Avro JSON for the record, or throws Error naming the field that does not fit. */
export function toAvro(schema, values, named = {}, prefix = '') {
  const record = resolve(schema, named);
  const out = {};
  for (const f of record.fields) {
    const path = prefix + f.name;
    const opt = optional(f.type);
    const type = resolve(opt || f.type, named);
    const kind = typeName(type);
    const raw = values[path];
    if (kind === 'record') {
      out[f.name] = toAvro(type, values, named, `${path}.`);
      continue;
    }
    if ((raw === undefined || raw === '') && kind !== 'string' && kind !== 'boolean') {
      if (opt) out[f.name] = null;
      else if (f.default !== undefined) out[f.name] = f.default;
      else throw new Error(`Field ${path} (${kind}) needs a value.`);
      continue;
    }
    let v;
    switch (kind) {
      case 'string': v = raw ?? ''; break;
      case 'boolean': v = raw === 'true'; break;
      case 'int': case 'long': {
        if (!/^-?\d+$/.test(raw)) throw new Error(`Field ${path} must be an integer (${kind}), got "${raw}".`);
        v = Number(raw);
        if (kind === 'int' && (v < INT_MIN || v > INT_MAX)) throw new Error(`Field ${path} is out of the int range.`);
        break;
      }
      case 'float': case 'double':
        v = Number(raw);
        if (raw.trim() === '' || Number.isNaN(v)) throw new Error(`Field ${path} must be a number (${kind}), got "${raw}".`);
        break;
      case 'enum':
        if (!type.symbols.includes(raw)) throw new Error(`Field ${path} must be one of ${type.symbols.join(', ')}.`);
        v = raw;
        break;
      default:
        try { v = JSON.parse(raw); } catch { throw new Error(`Field ${path} must be JSON (${kind}).`); }
    }
    // Avro's JSON encoding names a non-null union branch.
    out[f.name] = opt && v !== null && Array.isArray(f.type) ? { [typeof type === 'string' ? type : type.name || type.type]: v } : v;
  }
  return out;
}
