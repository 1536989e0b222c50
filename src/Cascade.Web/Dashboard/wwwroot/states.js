// Run states: names, the one-letter codes of /api/grid and /api/dag, labels, and summaries.
import { h, s } from './dom.js';

export const STATES = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'timed_out', 'upstream_failed', 'superseded'];
export const CODES = { w: 'waiting', q: 'queued', r: 'running', s: 'succeeded', f: 'failed', t: 'timed_out', u: 'upstream_failed', x: 'superseded' };
export const CODE_OF = Object.fromEntries(Object.entries(CODES).map(([c, n]) => [n, c]));
export const BROKEN = new Set(['failed', 'timed_out', 'upstream_failed']);
export const label = (state) => state ? state.replaceAll('_', ' ') : 'no run';

// The state that speaks for a group (a day of hours): the worst first.
const PRIORITY = ['failed', 'timed_out', 'upstream_failed', 'running', 'queued', 'waiting', 'succeeded', 'superseded'];

/** A day of hourly codes (24 characters) summed up: its counts, the state that speaks for it, and a text. */
export function summarise(codes) {
  const counts = {};
  let present = 0;
  for (const c of codes) {
    const name = CODES[c];
    if (!name) continue;
    counts[name] = (counts[name] ?? 0) + 1;
    present++;
  }
  const state = PRIORITY.find((p) => counts[p]) ?? null;
  const parts = PRIORITY.filter((p) => counts[p]).map((p) => `${counts[p]} ${label(p)}`);
  const text = present === 0 ? 'no run' : `${parts.join(', ')}${present < codes.length ? `, ${codes.length - present} not started` : ''}`;
  return { counts, state, present, text };
}

/** The shape of a state (colour and form), as an element. */
export const shape = (state) => h('span', { class: 'sh', 'data-s': state ?? 'none', 'aria-hidden': 'true' });

/** A state badge: its shape and its name. */
export const badge = (state) => h('span', { class: 'badge', 'data-state': state ?? 'none' }, shape(state), label(state));

// Hourly mini bars: each hour a slot; the colour is the state's, and the height says it too
// (readable without colour): done states grow from the bottom, broken ones hang from the top.
const BAR = {
  succeeded: [1, 'up'], running: [0.7, 'up'], queued: [0.5, 'up'], waiting: [0.3, 'up'], superseded: [0.15, 'up'],
  failed: [0.6, 'down'], timed_out: [0.4, 'down'], upstream_failed: [0.25, 'down'],
};

let palette = null;
export function resetPalette() { palette = null; }
function colour(state) {
  if (!palette) {
    const css = getComputedStyle(document.documentElement);
    palette = Object.fromEntries(['none', ...STATES].map((n) => [n, css.getPropertyValue(`--s-${n}`).trim()]));
  }
  return palette[state ?? 'none'];
}

/** Draws 24 hourly codes onto a canvas (width: 24 slots), scaled for the screen. */
export function drawHours(canvas, codes, slot, height) {
  const ratio = window.devicePixelRatio || 1;
  const width = slot * 24;
  if (canvas.width !== width * ratio) {
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  for (let i = 0; i < 24; i++) {
    const state = CODES[codes[i]];
    const x = i * slot;
    const w = Math.max(1, slot - (slot > 2 ? 1 : 0));
    if (!state) {
      g.fillStyle = colour('none');
      g.fillRect(x, height - 1, w, 1);
      continue;
    }
    const [part, dir] = BAR[state];
    const bh = Math.max(2, Math.round(height * part));
    g.fillStyle = colour(state);
    g.fillRect(x, dir === 'up' ? height - bh : 0, w, bh);
  }
}

/** The same 24 hours as SVG rectangles (the DAG view). */
export function svgHours(codes, x, y, slot, height) {
  const g = s('g', { class: 'hours' });
  for (let i = 0; i < 24; i++) {
    const state = CODES[codes[i]];
    const w = Math.max(1, slot - 1);
    if (!state) {
      g.append(s('rect', { x: x + i * slot, y: y + height - 1, width: w, height: 1, style: { fill: 'var(--s-none)' } }));
      continue;
    }
    const [part, dir] = BAR[state];
    const bh = Math.max(2, Math.round(height * part));
    g.append(s('rect', { x: x + i * slot, y: dir === 'up' ? y + height - bh : y, width: w, height: bh, style: { fill: `var(--s-${state})` } }));
  }
  return g;
}

/** A state's shape in SVG, centred on (cx, cy), as the CSS shapes draw it. */
export function svgShape(state, cx, cy) {
  const c = `var(--s-${state ?? 'none'})`;
  switch (state) {
    case 'succeeded': return s('rect', { x: cx - 6, y: cy - 6, width: 12, height: 12, rx: 2, style: { fill: c } });
    case 'running': return s('circle', { cx, cy, r: 6, style: { fill: c } });
    case 'queued': return s('circle', { cx, cy, r: 5, style: { fill: 'none', stroke: c }, 'stroke-width': 2 });
    case 'waiting': return s('rect', { x: cx - 5, y: cy - 5, width: 10, height: 10, style: { fill: 'none', stroke: c }, 'stroke-width': 2, 'stroke-dasharray': '3 2' });
    case 'failed': return s('path', { d: `M${cx - 5} ${cy - 5}L${cx + 5} ${cy + 5}M${cx + 5} ${cy - 5}L${cx - 5} ${cy + 5}`, style: { stroke: c }, 'stroke-width': 3 });
    case 'timed_out': return s('path', { d: `M${cx - 7} ${cy - 6}H${cx + 7}L${cx} ${cy + 6}Z`, style: { fill: c } });
    case 'upstream_failed': return s('path', { d: `M${cx - 5} ${cy - 5}h10v10h-10zM${cx - 5} ${cy + 5}L${cx + 5} ${cy - 5}`, style: { fill: 'none', stroke: c }, 'stroke-width': 2 });
    case 'superseded': return s('path', { d: `M${cx} ${cy - 5}L${cx + 5} ${cy}L${cx} ${cy + 5}L${cx - 5} ${cy}Z`, style: { fill: c } });
    default: return s('circle', { cx, cy, r: 2.5, style: { fill: c } });
  }
}

/** The legend: every state's shape and name, and how hourly bars read. */
export function legend() {
  return h('div', { class: 'legend', role: 'note', 'aria-label': 'Legend' },
    STATES.map((st) => h('span', {}, shape(st), label(st))),
    h('span', {}, shape(null), 'no run'),
    h('span', { class: 'muted' }, 'hourly jobs: 24 bars per day; done states rise from the bottom, broken ones hang from the top'));
}
