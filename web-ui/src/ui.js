// Small pieces every screen uses: the API's error shown where it happened, a confirmation
// dialog for anything destructive, a labelled field, and a hook that loads data for a view.
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import { html } from './html.js';

/** The API's message, next to the control that caused it. */
export function ErrorText({ error, id }) {
  if (!error) return null;
  const code = error.code ? ` (${error.code})` : '';
  return html`<p class="error" role="alert" id=${id}>${error.message}${code}</p>`;
}

/** A labelled control: the label wraps the input, so clicking it focuses the input. */
export function Field({ label, children, hint }) {
  return html`<label class="field"><span>${label}</span>${children}${hint ? html`<small>${hint}</small>` : null}</label>`;
}

/**
 * Loads with `fn` whenever `deps` change; returns { data, error, loading, reload }.
 * A load started later wins over one still running.
 */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false }),
      (error) => mine === seq.current && setState({ data: null, error, loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** A modal confirmation: resolves the action only after the user says yes. */
export function Confirm({ open, title, children, confirmLabel = 'Delete', onConfirm, onCancel, error }) {
  const dialog = useRef(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog ref=${dialog} aria-label=${title} onCancel=${(e) => { e.preventDefault(); onCancel(); }}>
    <h2>${title}</h2>
    ${children}
    <${ErrorText} error=${error} />
    <div class="row end">
      <button type="button" onClick=${onCancel}>Cancel</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirmLabel}</button>
    </div>
  </dialog>`;
}

export function Loading() {
  return html`<p class="muted" aria-live="polite">Loading…</p>`;
}

/** A download of `text` as a file, without a server round trip. */
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function fmtTime(ms) {
  if (ms == null) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export function fmtNum(n) {
  return n == null ? '' : Number(n).toLocaleString('en');
}

/** Bytes in binary units (1.5 KiB, 20.3 MiB); the exact count belongs in a title. */
export function fmtBytes(n) {
  if (n == null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
