// Avro binary → Avro's JSON encoding, for values in Confluent's framing (magic 0, 4-byte schema
// id, Avro binary). The schema comes from the registry by id (`/schemas/ids/{id}`, cached).
// Decoding here rather than through the gateway's avro read format lets a record whose key is
// plain text and whose value is Avro show both: the gateway's avro format needs both to be Avro.
import { get, SR } from './api.js';

const schemas = new Map();

/** The parsed schema of registry id `id` (one request per id per page load). */
export function schemaById(id) {
  if (!schemas.has(id)) schemas.set(id, get(`/schemas/ids/${id}`, { accept: SR }).then((r) => JSON.parse(r.schema)));
  return schemas.get(id);
}

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.i = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  byte() {
    if (this.i >= this.b.length) throw new Error('Avro data ends early');
    return this.b[this.i++];
  }
  long() {
    // Zig-zag varint; BigInt so a long past 2^53 is not rounded, shown as a number when safe.
    let shift = 0n;
    let n = 0n;
    for (;;) {
      const b = this.byte();
      n |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
      if (shift > 63n) throw new Error('Avro varint too long');
    }
    const v = (n >> 1n) ^ -(n & 1n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  take(n) {
    if (n < 0 || this.i + n > this.b.length) throw new Error('Avro data ends early');
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
  fixed(size, width) {
    const at = this.i;
    this.take(size);
    return width === 4 ? this.view.getFloat32(at, true) : this.view.getFloat64(at, true);
  }
}

const utf8 = new TextDecoder();
const bytesToString = (b) => String.fromCharCode(...b);

/** A union branch's name in Avro's JSON encoding: a named type's full name, else its type. */
function branchName(branch, ns) {
  if (typeof branch === 'string') return branch;
  if (!branch.name) return branch.type;
  if (branch.name.includes('.')) return branch.name;
  const space = branch.namespace || ns;
  return space ? `${space}.${branch.name}` : branch.name;
}

function read(r, type, named, ns) {
  if (typeof type === 'string') {
    switch (type) {
      case 'null': return null;
      case 'boolean': return r.byte() !== 0;
      case 'int': case 'long': return r.long();
      case 'float': return r.fixed(4, 4);
      case 'double': return r.fixed(8, 8);
      case 'bytes': return bytesToString(r.take(Number(r.long())));
      case 'string': return utf8.decode(r.take(Number(r.long())));
      default: {
        const t = named[type] || named[`${ns}.${type}`];
        if (!t) throw new Error(`Unknown Avro type ${type}`);
        return read(r, t, named, ns);
      }
    }
  }
  if (Array.isArray(type)) {
    const branch = type[Number(r.long())];
    if (branch === undefined) throw new Error('Avro union index out of range');
    const v = read(r, branch, named, ns);
    if (branch === 'null') return null;
    return { [branchName(branch, ns)]: v };
  }
  const space = type.namespace || ns;
  if (type.name) {
    named[type.name] = type;
    if (space) named[`${space}.${type.name}`] = type;
  }
  switch (type.type) {
    case 'record': case 'error': {
      const out = {};
      for (const f of type.fields) out[f.name] = read(r, f.type, named, space);
      return out;
    }
    case 'enum': return type.symbols[Number(r.long())];
    case 'fixed': return bytesToString(r.take(type.size));
    case 'array': case 'map': {
      const out = type.type === 'array' ? [] : {};
      for (;;) {
        let n = Number(r.long());
        if (n === 0) break;
        if (n < 0) { n = -n; r.long(); }
        for (let k = 0; k < n; k++) {
          if (type.type === 'array') out.push(read(r, type.items, named, space));
          else out[utf8.decode(r.take(Number(r.long())))] = read(r, type.values, named, space);
        }
      }
      return out;
    }
    default: return read(r, type.type, named, space);
  }
}

/** Decodes the Avro binary after the 5-byte frame header with `schema`. */
export function decode(schema, framed) {
  return read(new Reader(framed.subarray(5)), schema, {}, '');
}
