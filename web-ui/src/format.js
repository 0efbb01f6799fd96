// How a key or value is shown: pretty JSON, decoded Avro (with its schema id), text or hex,
// from the bytes the API returns base64-encoded.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function asText(bytes) {
  if (!bytes) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export function hex(bytes) {
  if (!bytes) return '';
  const out = [];
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i].toString(16).padStart(2, '0'));
  return out.join(' ');
}

/** The schema id of a Confluent-framed value (magic 0, 4-byte big-endian id), else null. */
export function schemaId(bytes) {
  if (!bytes || bytes.length < 5 || bytes[0] !== 0) return null;
  return new DataView(bytes.buffer, bytes.byteOffset + 1, 4).getInt32(0);
}

/**
 * { kind: 'json'|'avro'|'text'|'hex'|'null', text } for the chosen format ('auto' picks Avro,
 * then JSON, then text, then hex).
 */
export function render(bytes, avro, fmt = 'auto') {
  if (bytes == null) return { kind: 'null', text: 'null' };
  if ((fmt === 'auto' || fmt === 'avro') && avro !== undefined) return { kind: 'avro', text: JSON.stringify(avro, null, 2) };
  if (fmt === 'hex') return { kind: 'hex', text: hex(bytes) };
  const text = asText(bytes);
  if (fmt === 'text') return text == null ? { kind: 'hex', text: hex(bytes) } : { kind: 'text', text };
  if (text != null) {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      if (fmt === 'json') return { kind: 'text', text };
      if (!/[\u0000-\u0008\u000e-\u001f]/.test(text)) return { kind: 'text', text };
    }
  }
  return { kind: 'hex', text: hex(bytes) };
}

export function csvCell(v) {
  const s = v == null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
