// The run page (#/runs/{job}/{partition}): why it is (not) running, its deadlines, attempts,
// generations, metadata and params, and its log, followed live while the attempt runs.
import { h, link, runHash, dagHash, showKey, time, duration, span, keyOf, dateOf, addDays, isoDay } from './dom.js';
import { getJson } from './api.js';
import { badge, shape, CODES, label } from './states.js';
import * as actions from './actions.js';

const LOG_KEEP = 512 * 1024; // characters of the tail kept on screen

export function show(main, job, partition) {
  const hourly = partition.length === 10;
  const day = partition.slice(0, 8);
  const base = `/api/runs/${encodeURIComponent(job)}/${encodeURIComponent(partition)}`;
  const top = h('div', {}, h('p', { class: 'muted', text: 'Reading the run…' }));
  const logTitle = h('h2', { id: 'log-title', text: 'Log' });
  const logState = h('span', { class: 'muted', role: 'status' });
  const log = h('pre', { class: 'log', tabindex: '0', 'aria-labelledby': 'log-title', 'data-log': '' });
  const page = h('div', { class: 'page' }, top, h('section', { 'aria-labelledby': 'log-title' }, logTitle, logState, log));
  main.replaceChildren(page);
  document.title = `${job} ${showKey(partition)} · Cascade`;

  let details = null;
  let chosen = null;           // { generation, attempt } picked by the user; null: the latest
  let streaming = null;        // { key, controller, ended }
  let timer = 0;
  let disposed = false;
  let hours = null;            // an hourly job's day as state codes
  const tick = setInterval(updateClocks, 1000);

  async function load() {
    try {
      details = await getJson(base);
      if (hourly) {
        const grid = await getJson(`/api/grid?from=${day}&to=${day}`);
        hours = grid.jobs.find((j) => j.name === job)?.cells ?? null;
      }
    } catch (e) {
      if (disposed) return;
      top.replaceChildren(h('h1', { text: `${job} ${showKey(partition)}` }), h('p', { class: 'error', role: 'alert', text: e.message }), link('#/', 'Back to the grid'));
      return;
    }
    if (disposed) return;
    render();
    followLog();
  }

  function render() {
    const run = details.run;
    const state = run?.state ?? null;
    const step = (n) => {
      if (!hourly) return keyOf(addDays(dateOf(partition), n));
      const t = Date.UTC(+partition.slice(0, 4), +partition.slice(4, 6) - 1, +partition.slice(6, 8), +partition.slice(8)) + n * 3600000;
      const d = new Date(t);
      return keyOf(d) + String(d.getUTCHours()).padStart(2, '0');
    };
    const cancellable = ['waiting', 'queued', 'running'].includes(state);
    top.replaceChildren(...[
      h('nav', { class: 'run-head', 'aria-label': 'Around this run' },
        link('#/', '← Grid'), ' · ',
        link(runHash(job, step(-1)), `previous ${hourly ? 'hour' : 'day'}`), ' · ',
        link(runHash(job, step(1)), `next ${hourly ? 'hour' : 'day'}`), ' · ',
        link(dagHash(day), `DAG of ${isoDay(day)}`)),
      h('h1', {}, h('span', { text: job }), h('span', { class: 'muted', text: showKey(partition) }), badge(state)),
      hourly ? hourStrip() : null,
      h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' },
        h('button', { type: 'button', text: 'Trigger', 'data-action': 'trigger', onclick: () => actions.trigger(job, partition) }),
        h('button', { type: 'button', text: 'Replay…', 'data-action': 'replay', onclick: () => actions.replay(job, partition) }),
        h('button', { type: 'button', text: 'Cancel…', 'data-action': 'cancel', disabled: !cancellable, onclick: () => actions.cancel(job, partition) })),
      facts(run),
      inputs(),
      attempts(),
      generations(),
      keyValues('Metadata (from the marker)', run?.meta, 'meta'),
      keyValues('Params', run?.params, 'params'),
      run?.warnings?.length ? h('section', {}, h('h2', { text: 'Warnings' }), h('ul', {}, run.warnings.map((w) => h('li', { text: w })))) : null,
    ].filter(Boolean));
    updateClocks();
  }

  function hourStrip() {
    return h('nav', { class: 'hours', 'aria-label': 'Hours of this day' }, Array.from({ length: 24 }, (_, i) => {
      const key = day + String(i).padStart(2, '0');
      const st = hours ? CODES[hours[i]] ?? null : null;
      return h('a', { href: runHash(job, key), 'aria-current': key === partition ? 'page' : null, 'aria-label': `${String(i).padStart(2, '0')}:00 ${label(st)}`, title: label(st) },
        shape(st), String(i).padStart(2, '0'));
    }));
  }

  function facts(run) {
    if (!run) return h('p', { text: 'No run yet: it is made when its first input is done (or by a schedule, a trigger or a backfill).' });
    const dl = h('dl', { class: 'facts' });
    const add = (term, ...value) => dl.append(h('dt', { text: term }), h('dd', {}, value));
    add('state', label(run.state), run.reason ? ` — ${run.reason}` : '');
    add('generation / attempt', `${run.generation} / ${run.attempt}`);
    add('created', time(run.created_at));
    add('activated', time(run.activated_at));
    add('finished', time(run.finished_at), run.activated_at ? ` (${duration(run.activated_at, run.finished_at)}${run.finished_at ? '' : ' so far'})` : '');
    add('wait deadline', run.wait_deadline ? time(run.wait_deadline) : 'none (the job has no wait_timeout: it waits for its inputs as long as it takes)',
      run.wait_deadline ? [' ', deadlineLeft(run.wait_deadline, run.state === 'waiting')] : '');
    add('SLA deadline', run.deadline ? time(run.deadline) : 'none set', run.deadline ? [' ', deadlineLeft(run.deadline, run.state !== 'succeeded')] : '');
    if (run.next_retry_at) add('next retry', time(run.next_retry_at), ' ', deadlineLeft(run.next_retry_at, true));
    if (run.exit_code != null) add('exit code', String(run.exit_code));
    if (run.cause) add('cause', run.cause);
    return dl;
  }

  function deadlineLeft(iso, counting) {
    return h('span', { class: 'muted', dataset: counting ? { until: iso } : {} });
  }

  function updateClocks() {
    for (const el of page.querySelectorAll('[data-until]')) {
      const left = Date.parse(el.dataset.until) - Date.now();
      el.textContent = left >= 0 ? `(${span(left)} left)` : `(passed ${span(-left)} ago)`;
    }
  }

  function inputs() {
    const rows = details.inputs;
    return h('section', { 'aria-labelledby': 'why' }, h('h2', { id: 'why', text: 'Why: its inputs' }),
      rows.length === 0 ? h('p', { text: 'No inputs: a root job (it runs on its schedule, a trigger, a backfill, or its own marker).' })
        : h('table', { 'data-inputs': '' },
          h('thead', {}, h('tr', {}, ['', 'input', 'offset', 'status', 'done at'].map((t) => h('th', { text: t })))),
          h('tbody', {}, rows.map((i) => h('tr', { dataset: { met: String(i.met) } },
            h('td', {}, shape(i.met ? 'succeeded' : 'waiting')),
            h('td', {}, link(runHash(i.job, i.partition), `${i.job} ${showKey(i.partition)}`)),
            h('td', { text: i.offset ? String(i.offset) : '' }),
            h('td', { text: i.why }),
            h('td', { text: time(i.done_at) }))))),
      rows.length ? h('p', { class: 'muted', text: `${rows.filter((i) => i.met).length} of ${rows.length} inputs done.` }) : null);
  }

  function attempts() {
    const rows = details.attempts;
    return h('section', { 'aria-labelledby': 'attempts' }, h('h2', { id: 'attempts', text: 'Attempts' }),
      rows.length === 0 ? h('p', { class: 'muted', text: 'None yet.' })
        : h('table', {},
          h('thead', {}, h('tr', {}, ['generation', 'attempt', 'started', 'finished', 'took', 'exit code', 'outcome', ''].map((t) => h('th', { text: t })))),
          h('tbody', {}, rows.map((a) => h('tr', {},
            h('td', { text: String(a.generation) }), h('td', { text: String(a.attempt) }),
            h('td', { text: time(a.started_at) }), h('td', { text: time(a.finished_at) }),
            h('td', { text: duration(a.started_at, a.finished_at) }),
            h('td', { text: a.exit_code == null ? '–' : String(a.exit_code) }),
            h('td', { text: a.outcome ?? '–' }),
            h('td', {}, h('button', { type: 'button', text: 'Show log', onclick: () => { chosen = { generation: a.generation, attempt: a.attempt }; followLog(); log.focus(); } })))))));
  }

  function generations() {
    const rows = details.generations;
    if (rows.length <= 1) return null;
    return h('section', { 'aria-labelledby': 'generations' }, h('h2', { id: 'generations', text: 'Generations' }),
      h('table', {}, h('thead', {}, h('tr', {}, ['generation', 'state', 'attempts', 'activated', 'finished'].map((t) => h('th', { text: t })))),
        h('tbody', {}, rows.map((g) => h('tr', {}, h('td', { text: String(g.generation) }), h('td', {}, badge(g.state)),
          h('td', { text: String(g.attempt) }), h('td', { text: time(g.activated_at) }), h('td', { text: time(g.finished_at) }))))));
  }

  function keyValues(title, map, name) {
    const entries = Object.entries(map ?? {});
    return h('section', { 'data-kv': name }, h('h2', { text: title }),
      entries.length === 0 ? h('p', { class: 'muted', text: 'none' })
        : h('table', { class: 'kv' }, h('tbody', {}, entries.map(([k, v]) =>
          h('tr', {}, h('td', { class: 'mono', text: k }), h('td', { class: 'mono', text: typeof v === 'string' ? v : JSON.stringify(v) }))))));
  }

  /** Streams the chosen (or latest) attempt's output; a running attempt's is followed until it ends. */
  function followLog() {
    const last = details?.attempts?.at(-1);
    const target = chosen ?? (last ? { generation: last.generation, attempt: last.attempt } : null);
    if (!target) {
      logTitle.textContent = 'Log';
      logState.textContent = details?.run?.attempt === 0 && details?.run?.state === 'succeeded' ? ' done by its marker: no output' : ' no attempt yet';
      return;
    }
    const key = `${target.generation}/${target.attempt}`;
    if (streaming && streaming.key === key) return;
    streaming?.controller.abort();
    const controller = new AbortController();
    streaming = { key, controller };
    logTitle.textContent = `Log of attempt ${target.attempt} (generation ${target.generation})`;
    log.textContent = '';
    stream(`${base}/logs?generation=${target.generation}&attempt=${target.attempt}`, controller.signal);
  }

  async function stream(url, signal) {
    logState.textContent = ' reading…';
    try {
      const response = await fetch(url, { signal, cache: 'no-store' });
      if (!response.ok) {
        let detail = response.statusText;
        try { detail = (await response.json()).detail ?? detail; } catch { /* not a problem document */ }
        logState.textContent = ` ${detail}`;
        return;
      }
      const live = response.headers.get('X-Cascade-Live') === 'true';
      logState.textContent = live ? ' live: following the output as it is written' : '';
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        append(decoder.decode(value, { stream: true }));
      }
      append(decoder.decode());
      if (live) logState.textContent = ' the attempt ended';
      if (!log.textContent) logState.textContent += ' (no output)';
    } catch (e) {
      if (e.name !== 'AbortError') logState.textContent = ` cannot read the log: ${e instanceof ApiError ? e.message : e.message}`;
    }
  }

  function append(text) {
    if (!text) return;
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(document.createTextNode(text));
    if (log.textContent.length > LOG_KEEP) log.textContent = log.textContent.slice(-LOG_KEEP);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  load();
  return {
    onRun() {},
    refresh() {
      clearTimeout(timer);
      timer = setTimeout(load, 100);
    },
    dispose() {
      disposed = true;
      clearInterval(tick);
      clearTimeout(timer);
      streaming?.controller.abort();
    },
  };
}
