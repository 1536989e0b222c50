// Cascade's dashboard: a hash router over three views (grid, run, DAG), the theme, and the live
// event stream that keeps whatever is on screen current.
import * as grid from './grid.js';
import * as run from './run.js';
import * as dag from './dag.js';
import * as actions from './actions.js';
import { resetPalette } from './states.js';

const main = document.getElementById('main');
let view = null;
let current = '';

function route() {
  const hash = location.hash || '#/';
  const path = hash.split('?')[0];
  view?.dispose?.();
  view = null;
  let m;
  let name = 'grid';
  if ((m = path.match(/^#\/runs\/([^/]+)\/([^/]+)$/))) {
    name = 'run';
    view = run.show(main, decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  } else if ((m = path.match(/^#\/dag(?:\/([^/]+))?$/))) {
    name = 'dag';
    view = dag.show(main, m[1] ? decodeURIComponent(m[1]) : null);
  } else {
    document.title = 'Cascade';
    view = grid.show(main, new URLSearchParams(hash.split('?')[1] ?? ''));
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (current && current !== hash) main.focus({ preventScroll: true });
  current = hash;
}

// Theme: the system's (prefers-color-scheme) until the user picks one with the button.
const THEME_KEY = 'cascade.theme';
const dark = matchMedia('(prefers-color-scheme: dark)');
function applyTheme() {
  const chosen = localStorage.getItem(THEME_KEY);
  if (chosen) document.documentElement.dataset.theme = chosen; else delete document.documentElement.dataset.theme;
  const isDark = chosen ? chosen === 'dark' : dark.matches;
  const button = document.getElementById('theme');
  button.setAttribute('aria-pressed', String(isDark));
  button.textContent = isDark ? 'Light theme' : 'Dark theme';
  resetPalette();
}
document.getElementById('theme').addEventListener('click', () => {
  const isDark = document.documentElement.dataset.theme ? document.documentElement.dataset.theme === 'dark' : dark.matches;
  localStorage.setItem(THEME_KEY, isDark ? 'light' : 'dark');
  applyTheme();
  repaint();
});
dark.addEventListener('change', () => { applyTheme(); repaint(); });
function repaint() {
  // Canvases (hourly bars) are drawn in the theme's colours: redraw them.
  if (view?.repaint) view.repaint(); else view?.refresh?.();
}

// Live: every run change the server streams. A change is applied at once where the view can
// (`event: run` with job, partition and state), and the view is also re-read shortly after any
// event, since some changes (a run first seen done by its marker) may come without one of their own.
const live = document.getElementById('live');
let refreshTimer = 0;
let lastEvent = 0;
function setLive(state, text) {
  live.dataset.live = state;
  live.textContent = text;
}
function changed(data) {
  lastEvent = Date.now();
  view?.onRun?.(data);
  // Throttled, not debounced: a steady stream of events still re-reads the view every 80 ms or so.
  if (!refreshTimer) refreshTimer = setTimeout(() => { refreshTimer = 0; view?.refresh?.(); }, 80);
}
function connect() {
  const events = new EventSource('/api/events');
  const onEvent = (e) => {
    let data = null;
    try { data = e.data ? JSON.parse(e.data) : null; } catch { data = null; }
    changed(data && typeof data === 'object' ? data : null);
  };
  events.addEventListener('run', onEvent);
  events.addEventListener('message', onEvent);
  events.addEventListener('open', () => setLive('open', 'live'));
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) {
      setLive('error', 'disconnected: retrying');
      setTimeout(connect, 3000);
    } else {
      setLive('connecting', 'reconnecting…');
    }
  });
}
// A slow safety net: re-read the view now and then even without events.
setInterval(() => { if (document.visibilityState === 'visible' && Date.now() - lastEvent > 15000) view?.refresh?.(); }, 15000);

document.getElementById('token-open').addEventListener('click', () => actions.tokenDialog());
document.getElementById('backfill-open').addEventListener('click', () => actions.backfill());
window.addEventListener('hashchange', route);
applyTheme();
route();
connect();
