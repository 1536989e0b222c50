// The grid: jobs × days, one cell per run (an hourly job's day is a 24-slot mini bar).
// Virtualised: only the rows and columns in view (plus a few) are in the page, so 1,000 jobs ×
// 90 days costs what one screen costs. Live: changes arrive from the event stream (app.js).
import { h, runHash, keyOf, dateOf, addDays, isoDay, fromIso } from './dom.js';
import { getJson } from './api.js';
import { CODES, CODE_OF, STATES, label, summarise, drawHours, legend } from './states.js';

const ROW = 26;
const HEAD = 44;
const NAME = 220;
const OVERSCAN = 3;
const DENSITY = { wide: { col: 50, slot: 2 }, compact: { col: 26, slot: 1 } };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Su', 'Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa'];
const FILTERS = [['', 'any state'], ['broken', 'broken'], ['unfinished', 'not succeeded'], ...STATES.map((s) => [s, label(s)])];

function someIn(codes, set) {
  for (let i = 0; i < codes.length; i++) if (set.has(codes[i])) return true;
  return false;
}

/** Which cells a state filter keeps (codes as in /api/grid). */
function filterCodes(filter) {
  if (!filter) return null;
  if (filter === 'broken') return new Set(['f', 't', 'u']);
  if (filter === 'unfinished') return new Set(['w', 'q', 'r', 'f', 't', 'u']);
  return new Set([CODE_OF[filter]]);
}

export function show(main, query) {
  const params = {
    from: query.get('from') ? fromIso(query.get('from')) : null,
    to: query.get('to') ? fromIso(query.get('to')) : null,
    job: query.get('job') ?? '',
    state: query.get('state') ?? '',
    density: query.get('density') === 'compact' ? 'compact' : 'wide',
  };
  let data = null;       // { from, to, days, jobs: [{ name, grain, kind, cells }] }
  let fromDate = null;
  let index = new Map(); // job name → job
  let rows = [];         // the jobs shown (filtered)
  let keep = null;       // codes the state filter keeps
  let active = { r: 0, c: 0 };
  let frame = 0;
  let rowsShown = new Map();  // job name → row element in the page
  let cellsShown = new Map(); // "job/day index" → cell element in the page
  let loading = null;
  let painted = false;
  let disposed = false;

  const jobInput = h('input', { type: 'search', placeholder: 'name contains…', value: params.job, 'aria-label': 'Filter jobs by name' });
  const stateSelect = h('select', { 'aria-label': 'Filter by state' }, FILTERS.map(([v, t]) => h('option', { value: v, text: t, selected: v === params.state })));
  const fromInput = h('input', { type: 'date', 'aria-label': 'From day' });
  const toInput = h('input', { type: 'date', 'aria-label': 'To day' });
  const densitySelect = h('select', { 'aria-label': 'Column width' }, h('option', { value: 'wide', text: 'wide', selected: params.density === 'wide' }), h('option', { value: 'compact', text: 'compact', selected: params.density === 'compact' }));
  const summary = h('span', { class: 'muted', role: 'status' });
  const rangeButtons = [7, 14, 30, 90].map((n) => h('button', { type: 'button', text: `${n} d`, title: `The ${n} days up to "to"`, onclick: () => setSpan(n) }));
  const toolbar = h('div', { class: 'toolbar', role: 'search' },
    h('label', {}, 'Job', jobInput),
    h('label', {}, 'State', stateSelect),
    h('span', { class: 'range' }, h('label', {}, 'From', fromInput), ' ', h('label', {}, 'to', toInput), ' ', rangeButtons,
      h('button', { type: 'button', text: 'Latest', title: 'The days up to the latest partition', onclick: () => { params.from = null; params.to = null; reload(); } })),
    h('label', {}, 'Columns', densitySelect),
    summary);
  const spacer = h('div', { class: 'grid-spacer' });
  const body = h('div', { class: 'grid-body', role: 'grid', 'aria-label': 'Runs: jobs by day', tabindex: '0' }, spacer);
  main.replaceChildren(toolbar, legend(), body);

  const dims = () => DENSITY[params.density];

  function writeUrl() {
    const q = new URLSearchParams();
    if (params.from) q.set('from', isoDay(params.from));
    if (params.to) q.set('to', isoDay(params.to));
    if (params.job) q.set('job', params.job);
    if (params.state) q.set('state', params.state);
    if (params.density !== 'wide') q.set('density', params.density);
    const text = q.toString();
    history.replaceState(null, '', text ? `#/?${text}` : '#/');
  }

  function setSpan(n) {
    const to = params.to ?? data?.to;
    if (!to) return;
    params.to = to;
    params.from = keyOf(addDays(dateOf(to), -(n - 1)));
    reload();
  }

  function refilter() {
    const text = params.job.trim().toLowerCase();
    keep = filterCodes(params.state);
    rows = (data?.jobs ?? []).filter((j) => (!text || j.name.toLowerCase().includes(text)) && (!keep || [...j.cells].some((c) => keep.has(c))));
    active.r = Math.min(active.r, Math.max(0, rows.length - 1));
    const { col } = dims();
    spacer.style.width = `${NAME + (data?.days ?? 0) * col}px`;
    spacer.style.height = `${HEAD + rows.length * ROW}px`;
    body.setAttribute('aria-rowcount', String(rows.length + 1));
    body.setAttribute('aria-colcount', String((data?.days ?? 0) + 1));
    const days = data?.days ?? 0;
    summary.textContent = data ? `${rows.length} of ${data.jobs.length} jobs × ${days} days · updated ${new Date().toLocaleTimeString()}` : '';
  }

  async function load() {
    const q = new URLSearchParams();
    if (params.from) q.set('from', params.from);
    if (params.to) q.set('to', params.to);
    const answer = await getJson(`/api/grid?${q}`);
    if (disposed) return;
    performance.mark('cascade:grid-data');
    const rangeChanged = !data || data.from !== answer.from || data.to !== answer.to;
    data = answer;
    fromDate = dateOf(data.from);
    index = new Map(data.jobs.map((j) => [j.name, j]));
    fromInput.value = isoDay(data.from);
    toInput.value = isoDay(data.to);
    refilter();
    if (rangeChanged) body.scrollLeft = body.scrollWidth; // the newest days in view
    render();
    if (!painted) {
      painted = true;
      // After the next frame has been painted (a task queued from requestAnimationFrame runs after paint).
      requestAnimationFrame(() => setTimeout(() => performance.mark('cascade:grid-painted'), 0));
    }
  }

  function reload() {
    writeUrl();
    refresh(true);
  }

  /** Re-reads the grid (coalesced: one request at a time, one more if asked meanwhile). */
  function refresh(now = false) {
    if (loading) { loading.again = true; return; }
    loading = { again: false };
    const run = async () => {
      try { await load(); } catch (e) { showError(e); }
      const again = loading.again;
      loading = null;
      if (again && !disposed) refresh(true);
    };
    if (now) run(); else setTimeout(run, 0);
  }

  function showError(e) {
    spacer.style.width = '100%';
    spacer.replaceChildren(h('p', { class: 'empty error', role: 'alert', text: `Cannot read the grid: ${e.message}` }));
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  }

  function render() {
    if (!data || disposed) return;
    const { col, slot } = dims();
    const top = body.scrollTop;
    const left = body.scrollLeft;
    const height = body.clientHeight;
    const width = body.clientWidth;
    const r0 = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const r1 = Math.min(rows.length, Math.ceil((top + height - HEAD) / ROW) + OVERSCAN);
    const c0 = Math.max(0, Math.floor(left / col) - OVERSCAN);
    const c1 = Math.min(data.days, Math.ceil((left + width - NAME) / col) + OVERSCAN);
    const hadFocus = body.contains(document.activeElement) && document.activeElement !== body;
    performance.mark('cascade:grid-render-start');

    const head = h('div', { class: 'g-head', role: 'row', 'aria-rowindex': '1' });
    head.style.width = `${NAME + data.days * col}px`;
    head.append(h('div', { class: 'g-corner', role: 'columnheader', text: 'job \\ day (UTC)' }));
    for (let c = c0; c < c1; c++) {
      const day = addDays(fromDate, c);
      const d = day.getUTCDate();
      const cell = h('div', { class: `g-day${day.getUTCDay() % 6 === 0 ? ' we' : ''}`, role: 'columnheader', 'aria-colindex': String(c + 2), title: isoDay(keyOf(day)) },
        d === 1 || c === c0 ? h('span', { class: 'm', text: MONTHS[day.getUTCMonth()] }) : WEEKDAYS[day.getUTCDay()], h('br'), String(d));
      cell.style.left = `${NAME + c * col}px`;
      cell.style.width = `${col}px`;
      head.append(cell);
    }

    const out = [head];
    const rowCache = new Map();
    const cellCache = new Map();
    for (let r = r0; r < r1; r++) {
      const job = rows[r];
      // Rows and cells still in view are kept as they are (unless their state changed): a scroll
      // only builds the cells that come into view.
      let row = rowsShown.get(job.name);
      if (!row || row.dataset.r !== String(r) || row.cascadeWidth !== data.days * col) {
        row = h('div', { class: 'g-row', role: 'row', 'aria-rowindex': String(r + 2), dataset: { r: String(r) } });
        row.style.top = `${HEAD + r * ROW}px`;
        row.style.width = `${NAME + data.days * col}px`;
        row.cascadeWidth = data.days * col;
        row.append(h('div', { class: 'g-name', role: 'rowheader', title: job.name }, job.name,
          job.grain === 'hourly' ? h('span', { class: 'k', text: 'hourly' }) : null,
          job.kind === 'external' ? h('span', { class: 'k', text: 'external' }) : null));
      }
      rowCache.set(job.name, row);
      const cells = [row.firstChild];
      for (let c = c0; c < c1; c++) {
        const hourly = job.grain === 'hourly';
        const codes = hourly ? job.cells.slice(c * 24, c * 24 + 24) : job.cells[c];
        const id = `${job.name}/${c}`;
        const dim = keep !== null && !someIn(codes, keep);
        let cell = cellsShown.get(id);
        if (!cell || cell.cascadeCodes !== codes || cell.cascadeDim !== dim || cell.cascadeCol !== col || cell.dataset.r !== String(r)) {
          cell = makeCell(job, r, c, codes, dim, col, slot);
        }
        const isActive = r === active.r && c === active.c;
        cell.tabIndex = isActive ? 0 : -1;
        cellCache.set(id, cell);
        cells.push(cell);
      }
      row.replaceChildren(...cells);
      out.push(row);
    }
    rowsShown = rowCache;
    cellsShown = cellCache;
    if (rows.length === 0) {
      out.push(h('p', { class: 'empty', text: data.jobs.length === 0 ? 'The pipeline has no jobs.' : 'No job matches the filter.' }));
    }
    spacer.replaceChildren(...out);
    performance.measure('cascade:grid-render', 'cascade:grid-render-start');
    if (hadFocus) focusActive(false);
  }

  /** One cell, built with the DOM API directly (the hot path of a scroll). */
  function makeCell(job, r, c, codes, dim, col, slot) {
    const day = addDays(fromDate, c);
    const key = keyOf(day);
    const hourly = job.grain === 'hourly';
    const { state, text } = hourly ? summarise(codes) : { state: CODES[codes] ?? null, text: label(CODES[codes]) };
    const cell = document.createElement('div');
    cell.className = `c${hourly ? ' hr' : ' sh'}${day.getUTCDay() % 6 === 0 ? ' we' : ''}${dim ? ' dim' : ''}`;
    cell.setAttribute('role', 'gridcell');
    cell.setAttribute('aria-colindex', String(c + 2));
    cell.setAttribute('aria-label', `${job.name} ${isoDay(key)}: ${text}`);
    if (!hourly) cell.setAttribute('data-s', state ?? 'none');
    cell.dataset.job = job.name;
    cell.dataset.day = key;
    cell.dataset.state = state ?? 'none';
    cell.dataset.r = String(r);
    cell.dataset.c = String(c);
    cell.style.left = `${NAME + c * col}px`;
    cell.style.width = `${col}px`;
    if (hourly) {
      const canvas = document.createElement('canvas');
      canvas.setAttribute('aria-hidden', 'true');
      drawHours(canvas, codes, slot, 16);
      cell.append(canvas);
    }
    cell.cascadeCodes = codes;
    cell.cascadeDim = dim;
    cell.cascadeCol = col;
    return cell;
  }

  function cellElement(r, c) {
    return spacer.querySelector(`.c[data-r="${r}"][data-c="${c}"]`);
  }

  function focusActive(scroll = true) {
    if (scroll) ensureVisible();
    const el = cellElement(active.r, active.c);
    if (el) { el.tabIndex = 0; el.focus({ preventScroll: true }); }
  }

  function ensureVisible() {
    const { col } = dims();
    const y = active.r * ROW;
    const x = active.c * col;
    const viewH = body.clientHeight - HEAD;
    const viewW = body.clientWidth - NAME;
    if (y < body.scrollTop) body.scrollTop = y;
    else if (y + ROW > body.scrollTop + viewH) body.scrollTop = y + ROW - viewH;
    if (x < body.scrollLeft) body.scrollLeft = x;
    else if (x + col > body.scrollLeft + viewW) body.scrollLeft = x + col - viewW;
    render();
  }

  function open(r, c, hour) {
    const job = rows[r];
    if (!job) return;
    const day = keyOf(addDays(fromDate, c));
    if (job.grain !== 'hourly') { location.hash = runHash(job.name, day); return; }
    const codes = job.cells.slice(c * 24, c * 24 + 24);
    if (hour == null) {
      const worst = summarise(codes).state;
      hour = Math.max(0, worst ? [...codes].indexOf(CODE_OF[worst]) : 0);
    }
    location.hash = runHash(job.name, day + String(hour).padStart(2, '0'));
  }

  body.addEventListener('scroll', schedule, { passive: true });
  body.addEventListener('mouseover', (e) => {
    // A cell's tooltip is its label, set when the pointer first reaches it (not for every cell built).
    const cell = e.target.closest?.('.c');
    if (cell && !cell.title) cell.title = cell.getAttribute('aria-label');
  });
  const resize = new ResizeObserver(schedule);
  resize.observe(body);
  body.addEventListener('click', (e) => {
    const cell = e.target.closest('.c');
    if (!cell) return;
    active = { r: +cell.dataset.r, c: +cell.dataset.c };
    const hourly = cell.classList.contains('hr');
    const hour = hourly ? Math.min(23, Math.max(0, Math.floor((e.offsetX - 1) / dims().slot))) : null;
    open(active.r, active.c, hourly ? hour : null);
  });
  body.addEventListener('focus', (e) => {
    // Tabbing into the grid lands on its active cell (one tab stop for the whole grid).
    if (e.target === body && !body.contains(e.relatedTarget)) focusActive();
  });
  body.addEventListener('focusin', (e) => {
    // A cell focused by any means (a click, a screen reader) becomes the active one: the grid's tab stop.
    const cell = e.target.closest?.('.c');
    if (!cell) return;
    const r = +cell.dataset.r;
    const c = +cell.dataset.c;
    if (r === active.r && c === active.c) return;
    const before = cellElement(active.r, active.c);
    if (before) before.tabIndex = -1;
    active = { r, c };
    cell.tabIndex = 0;
  });
  body.addEventListener('keydown', (e) => {
    if (!data || rows.length === 0) return;
    const page = Math.max(1, Math.floor((body.clientHeight - HEAD) / ROW) - 1);
    const moves = {
      ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
      PageUp: [-page, 0], PageDown: [page, 0],
    };
    if (e.key in moves) {
      const [dr, dc] = moves[e.key];
      active = { r: Math.min(rows.length - 1, Math.max(0, active.r + dr)), c: Math.min(data.days - 1, Math.max(0, active.c + dc)) };
    } else if (e.key === 'Home') {
      active = { r: e.ctrlKey ? 0 : active.r, c: 0 };
    } else if (e.key === 'End') {
      active = { r: e.ctrlKey ? rows.length - 1 : active.r, c: data.days - 1 };
    } else if (e.key === 'Enter' || e.key === ' ') {
      if (e.target.classList?.contains('c')) open(active.r, active.c, null);
      else return;
    } else {
      return;
    }
    e.preventDefault();
    focusActive();
  });
  jobInput.addEventListener('input', () => { params.job = jobInput.value; writeUrl(); refilter(); render(); });
  stateSelect.addEventListener('change', () => { params.state = stateSelect.value; writeUrl(); refilter(); render(); });
  const onRange = () => {
    if (!fromInput.value || !toInput.value) return;
    params.from = fromIso(fromInput.value);
    params.to = fromIso(toInput.value);
    reload();
  };
  fromInput.addEventListener('change', onRange);
  toInput.addEventListener('change', onRange);
  densitySelect.addEventListener('change', () => {
    params.density = densitySelect.value;
    writeUrl();
    refilter();
    body.scrollLeft = body.scrollWidth;
    render();
  });
  refresh(true);

  return {
    /** A run changed (an SSE event): its cell now, then the grid re-read (a change may have no event of its own). */
    onRun(change) {
      const job = change?.job && index.get(change.job);
      if (job && typeof change.partition === 'string' && CODE_OF[change.state] && fromDate) {
        const key = change.partition;
        const day = Math.round((dateOf(key.slice(0, 8)) - fromDate) / 86400000);
        if (day >= 0 && day < data.days) {
          const i = job.grain === 'hourly' ? (key.length === 10 ? day * 24 + Number(key.slice(8)) : -1) : (key.length === 8 ? day : -1);
          if (i >= 0) {
            job.cells = job.cells.slice(0, i) + CODE_OF[change.state] + job.cells.slice(i + 1);
            schedule();
          }
        }
      }
    },
    refresh: () => refresh(false),
    /** Redraws every cell (the theme changed: the bars' colours with it). */
    repaint() {
      rowsShown = new Map();
      cellsShown = new Map();
      render();
    },
    dispose() {
      disposed = true;
      resize.disconnect();
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
