// The HTTP API client: every request the UI makes goes through `request`, so every failure
// becomes an ApiError carrying the API's own `{"error_code","message"}`, shown next to the
// control that caused it.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const JSON_TYPE = 'application/json';
export const V2_JSON = 'application/vnd.kafka.json.v2+json';
export const V2_BINARY = 'application/vnd.kafka.binary.v2+json';
export const V2_AVRO = 'application/vnd.kafka.avro.v2+json';
export const SR = 'application/vnd.schemaregistry.v1+json';

/** One request; resolves to the parsed JSON body (or null for 204), rejects with ApiError. */
export async function request(method, path, { body, accept = JSON_TYPE, contentType = JSON_TYPE, signal } = {}) {
  const headers = { Accept: accept };
  if (body !== undefined) headers['Content-Type'] = contentType;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 0, `The server did not answer: ${e.message}`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const message = data && typeof data === 'object' && data.message ? data.message : `HTTP ${res.status}`;
    throw new ApiError(res.status, data && data.error_code, message);
  }
  return data;
}

export const get = (path, opts) => request('GET', path, opts);

let clusterId = null;
/** The one cluster's id (v3 paths carry it). */
export async function cluster() {
  if (!clusterId) {
    const list = await get('/v3/clusters');
    clusterId = list.data[0].cluster_id;
  }
  return clusterId;
}

/** A v3 path under the cluster: v3('/topics') → /v3/clusters/<id>/topics. */
export async function v3(path) {
  return `/v3/clusters/${encodeURIComponent(await cluster())}${path}`;
}

export const enc = encodeURIComponent;

/** Earliest and latest offsets of one partition. */
export async function offsets(topic, partition) {
  const o = await get(await v3(`/topics/${enc(topic)}/partitions/${partition}/offset?offset_type=earliest_and_latest`));
  return { earliest: o.earliest_offset, latest: o.latest_offset };
}

/** Decodes base64 into bytes (null stays null). */
export function fromBase64(b64) {
  if (b64 == null) return null;
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encodes a string as UTF-8 base64. */
export function toBase64(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
