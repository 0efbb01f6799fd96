// The app shell: navigation, theme switch, and the screen the URL names. Each screen is its
// own module under screens/.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { useRoute, href } from './router.js';
import { storedTheme, setTheme } from './theme.js';
import { Overview } from './screens/overview.js';
import { Topics } from './screens/topics.js';
import { Messages } from './screens/messages.js';
import { Tail } from './screens/tail.js';
import { Schemas } from './screens/schemas.js';
import { Groups } from './screens/groups.js';
import { Cluster } from './screens/cluster.js';

const SCREENS = [
  { id: 'overview', label: 'Overview', view: Overview, key: '1' },
  { id: 'topics', label: 'Topics', view: Topics, key: '2' },
  { id: 'messages', label: 'Messages', view: Messages, key: '3' },
  { id: 'tail', label: 'Live tail', view: Tail, key: '4' },
  { id: 'schemas', label: 'Schemas', view: Schemas, key: '5' },
  { id: 'groups', label: 'Consumer groups', view: Groups, key: '6' },
  { id: 'cluster', label: 'Cluster', view: Cluster, key: '7' },
];

function ThemeSwitch() {
  const [choice, setChoice] = useState(storedTheme());
  return html`<label class="theme"><span>Theme</span>
    <select value=${choice} onChange=${(e) => { setChoice(e.target.value); setTheme(e.target.value); }}>
      <option value="system">System</option><option value="light">Light</option><option value="dark">Dark</option>
    </select></label>`;
}

function App() {
  const route = useRoute();
  const screen = SCREENS.find((s) => s.id === route.screen) || SCREENS[0];
  const View = screen.view;

  useEffect(() => {
    document.title = `${screen.label} · Runnel`;
    const main = document.getElementById('main');
    if (main) main.focus({ preventScroll: true });
  }, [screen.id]);

  // Alt+1…7 jumps between screens; the nav links are ordinary links for Tab/Enter.
  useEffect(() => {
    const on = (e) => {
      if (!e.altKey) return;
      const s = SCREENS.find((x) => x.key === e.key);
      if (s) {
        e.preventDefault();
        location.hash = href(s.id);
      }
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, []);

  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${href('overview')}>Runnel</a>
      <nav aria-label="Screens">
        <ul>${SCREENS.map((s) => html`<li><a href=${href(s.id)} aria-current=${s.id === screen.id ? 'page' : undefined}
          title=${`Alt+${s.key}`}>${s.label}</a></li>`)}</ul>
      </nav>
      <${ThemeSwitch} />
    </header>
    <main id="main" tabindex="-1"><${View} route=${route} key=${screen.id} /></main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading" placeholder: render() adds to what is there
render(html`<${App} />`, root);
