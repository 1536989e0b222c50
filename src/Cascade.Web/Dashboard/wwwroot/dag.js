// The DAG of one day (#/dag/{partition}): the pipeline's jobs in layers (laid out by the server,
// GET /api/dag), each with its run's state; an hourly job shows its 24 hours.
import { h, s, runHash, dagHash, keyOf, dateOf, addDays, isoDay, fromIso } from './dom.js';
import { getJson } from './api.js';
import { svgShape, svgHours, summarise, label, legend, CODE_OF } from './states.js';

const W = 190;
const H = 54;
const GX = 70;
const GY = 22;
const PAD = 16;
const LOOP = 34; // room above the top row for self-loops (a job after its own yesterday)

export function show(main, partition) {
  const dayInput = h('input', { type: 'date', 'aria-label': 'Day' });
  const title = h('h1', { text: 'DAG' });
  const wrap = h('div', { class: 'dag-wrap' }, h('p', { class: 'muted', text: 'Reading the DAG…' }));
  const toolbar = h('div', { class: 'toolbar' }, title,
    h('button', { type: 'button', text: '← previous day', onclick: () => go(-1) }),
    h('label', {}, 'Day', dayInput),
    h('button', { type: 'button', text: 'next day →', onclick: () => go(1) }),
    h('a', { href: '#/', text: 'Grid' }));
  main.replaceChildren(toolbar, legend(), wrap);
  let current = null;
  let timer = 0;
  let disposed = false;

  function go(n) {
    if (current) location.hash = dagHash(keyOf(addDays(dateOf(current), n)));
  }
  dayInput.addEventListener('change', () => { if (dayInput.value) location.hash = dagHash(fromIso(dayInput.value)); });

  async function load() {
    let dag;
    try {
      dag = await getJson(`/api/dag/${encodeURIComponent(partition ?? 'latest')}`);
    } catch (e) {
      wrap.replaceChildren(h('p', { class: 'error', role: 'alert', text: `Cannot read the DAG: ${e.message}` }));
      return;
    }
    if (disposed) return;
    current = dag.partition;
    dayInput.value = isoDay(dag.partition);
    title.textContent = `DAG of ${isoDay(dag.partition)}`;
    document.title = `DAG ${isoDay(dag.partition)} · Cascade`;
    wrap.replaceChildren(draw(dag));
  }

  load();
  return {
    onRun() {},
    refresh() { clearTimeout(timer); timer = setTimeout(load, 100); },
    dispose() { disposed = true; clearTimeout(timer); },
  };
}

function draw(dag) {
  // Slots (jobs and the waypoints of long edges) as the server laid them out; each layer centred.
  const at = (layer, order) => ({
    x: PAD + layer * (W + GX),
    y: PAD + LOOP + order * (H + GY) + ((dag.width - dag.layer_sizes[layer]) * (H + GY)) / 2,
  });
  const pos = new Map(dag.nodes.map((n) => [n.job, at(n.layer, n.order)]));
  const width = PAD * 2 + Math.max(1, dag.layers) * (W + GX) - GX;
  const height = PAD * 2 + LOOP + Math.max(1, dag.width) * (H + GY) - GY;
  const svg = s('svg', { class: 'dag', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': `The jobs of ${isoDay(dag.partition)} and their inputs` },
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      s('path', { d: 'M0 0L10 5L0 10z', class: 'arrow' }))));

  for (const e of dag.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    if (e.from === e.to) {
      const x1 = a.x + W - 40;
      const x2 = a.x + 40;
      svg.append(s('path', { class: 'edge offset', d: `M${x1} ${a.y}C${x1} ${a.y - 26}, ${x2} ${a.y - 26}, ${x2} ${a.y}`, 'marker-end': 'url(#arrow)' }),
        s('text', { class: 'sub', x: a.x + W / 2, y: a.y - 24, 'text-anchor': 'middle' }, `needs its own day ${e.offset}`));
      continue;
    }
    // From the right of the upstream to the left of the downstream, through each waypoint's slot
    // (a straight run across its layer, curves between layers).
    const ports = [[a.x + W, a.y + H / 2]];
    for (const v of e.via ?? []) {
      const p = at(v.layer, v.order);
      ports.push([p.x, p.y + H / 2], [p.x + W, p.y + H / 2]);
    }
    ports.push([b.x, b.y + H / 2]);
    let d = `M${ports[0][0]} ${ports[0][1]}`;
    for (let i = 1; i < ports.length; i++) {
      const [x1, y1] = ports[i - 1];
      const [x2, y2] = ports[i];
      if (i % 2 === 0) { d += `L${x2} ${y2}`; continue; }
      const dx = Math.max(20, (x2 - x1) / 2);
      d += `C${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`;
    }
    svg.append(s('path', { class: `edge${e.offset ? ' offset' : ''}`, d, 'marker-end': 'url(#arrow)' }));
    if (e.offset) {
      const [x1, y1] = ports[0];
      const [x2, y2] = ports.at(-1);
      svg.append(s('text', { class: 'sub', x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle' }, `day ${e.offset}`));
    }
  }

  for (const n of dag.nodes) {
    const { x, y } = pos.get(n.job);
    const hourly = n.grain === 'hourly';
    const sum = hourly ? summarise(n.hours) : null;
    const state = hourly ? sum.state : n.state;
    const text = hourly ? sum.text : label(n.state);
    let target = dag.partition;
    if (hourly) {
      const i = sum.state ? n.hours.indexOf(CODE_OF[sum.state]) : 0;
      target = dag.partition + String(Math.max(0, i)).padStart(2, '0');
    }
    const box = s('rect', { class: 'box', x, y, width: W, height: H, rx: 8 });
    if (state) box.style.setProperty('stroke', `var(--s-${state})`);
    svg.append(s('a', { href: runHash(n.job, target), class: 'node', 'aria-label': `${n.job}${n.kind === 'external' ? ' (external)' : ''}: ${text}`, dataset: { job: n.job, state: state ?? 'none' } },
      s('title', {}, `${n.job}: ${text}`),
      box,
      svgShape(state, x + 16, y + 18),
      s('text', { x: x + 30, y: y + 23 }, n.job.length > 22 ? `${n.job.slice(0, 21)}…` : n.job),
      hourly ? svgHours(n.hours, x + 12, y + 31, 7, 16) : s('text', { class: 'sub', x: x + 30, y: y + 43 }, `${text}${n.kind === 'external' ? ' · external' : ''}`)));
  }
  return svg;
}
