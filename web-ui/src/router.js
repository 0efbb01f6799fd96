// Hash routing: `#/<screen>/<arg>?<query>`. The URL holds a screen's whole state, so a deep
// link opens the same view and the back button walks through earlier ones. Screens read their
// state with useRoute() and change it with navigate()/setQuery().
import { useEffect, useState } from 'preact/hooks';

export function parse(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { screen: parts[0] || 'overview', args: parts.slice(1), query: Object.fromEntries(new URLSearchParams(query)) };
}

export function href(screen, args = [], query = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const path = [screen, ...args].map(encodeURIComponent).join('/');
  const qs = q.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(screen, args = [], query = {}, { replace = false } = {}) {
  const target = href(screen, args, query);
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** Merges `changes` into the current route's query (replace: true for typing into a filter). */
export function setQuery(changes, opts) {
  const r = parse();
  navigate(r.screen, r.args, { ...r.query, ...changes }, opts);
}

export function useRoute() {
  const [route, setRoute] = useState(parse());
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
