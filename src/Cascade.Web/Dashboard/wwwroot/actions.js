// Actions: trigger, replay (the dry-run plan first, then confirmed), cancel (its list first),
// backfill. Each goes through the API's request path, with the token when the user gave one;
// each says what it did and links to what it started, and follows its request until a
// scheduler has taken it.
import { h, link, runHash, showKey, time } from './dom.js';
import { getJson, postJson, token, ApiError } from './api.js';
import { badge } from './states.js';

const dialog = () => document.getElementById('dialog');
const MAX_TOASTS = 5;

/** Shows a note of what happened (kept until closed); returns its element. */
export function toast(parts, bad = false) {
  const box = document.getElementById('toasts');
  const close = h('button', { type: 'button', class: 'x', 'aria-label': 'Dismiss', text: '×' });
  const note = h('div', { class: `toast${bad ? ' bad' : ''}`, role: bad ? 'alert' : 'status' }, close, parts);
  close.addEventListener('click', () => note.remove());
  box.append(note);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  return note;
}

function failed(what, e) {
  const parts = [`${what} was refused: ${e.message}`];
  if (e instanceof ApiError && e.status === 401) {
    parts.push(' ', h('button', { type: 'button', text: 'Enter the API token', onclick: () => tokenDialog() }));
  }
  toast(parts, true);
}

/** Follows a request until a scheduler has taken it (bounded), showing it in the note. */
async function follow(url, status) {
  const until = Date.now() + 120000;
  while (Date.now() < until && status.isConnected) {
    try {
      const r = await getJson(url);
      if (r.taken) { status.textContent = `taken by the scheduler at ${time(r.taken_at)}`; return; }
      status.textContent = r.scheduler_running ? 'waiting for the scheduler to take it…' : 'no scheduler runs now: the next `cascade run` takes it';
    } catch (e) {
      status.textContent = `cannot follow it: ${e.message}`;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function accepted(text, answer, links) {
  const status = h('span', { class: 'muted', text: 'sent…' });
  toast([h('strong', { text }), ' ', link(answer.url, `request #${answer.request}`, { target: '_blank', rel: 'noopener' }),
    ' — ', status, links?.length ? h('div', {}, links) : null]);
  follow(answer.url, status);
}

/** Opens the shared dialog with a title and content; resolves when it closes. */
function open(title, content) {
  const d = dialog();
  const heading = h('h2', { id: 'dialog-title', text: title });
  d.setAttribute('aria-labelledby', 'dialog-title');
  d.replaceChildren(heading, content);
  d.showModal();
  return d;
}

const cancelButton = (d) => h('button', { type: 'button', text: 'Close', onclick: () => d.close() });

export async function trigger(job, partition) {
  const d = open(`Trigger ${job} ${showKey(partition)}`, h('div', {},
    h('p', { text: 'Starts the run now. Its inputs are not checked: it runs even if an input is missing.' }),
    h('div', { class: 'buttons' }, h('button', { type: 'button', text: 'Cancel', onclick: () => d.close() }),
      h('button', { type: 'button', class: 'primary', text: 'Trigger', 'data-action': 'confirm-trigger', onclick: go }))));
  async function go() {
    d.close();
    try {
      const answer = await postJson(`/api/runs/${encodeURIComponent(job)}/${encodeURIComponent(partition)}/trigger`, {});
      accepted(`Triggered ${job} ${showKey(partition)}:`, answer, [link(runHash(job, partition), `open ${job} ${showKey(partition)}`)]);
    } catch (e) { failed('The trigger', e); }
  }
}

export function replay(job, partition) {
  const d = dialog();
  const to = h('input', { type: 'text', value: partition, 'aria-label': 'To partition', size: 12 });
  const downstream = h('input', { type: 'checkbox', checked: true, id: 'replay-downstream' });
  const force = h('input', { type: 'checkbox', id: 'replay-force' });
  const plan = h('div', { class: 'plan', 'aria-live': 'polite', 'data-plan': '' }, h('p', { class: 'muted', text: 'Reading the plan…' }));
  const confirm = h('button', { type: 'button', class: 'primary', text: 'Replay', disabled: true, 'data-action': 'confirm-replay' });
  const body = () => ({ job, from: partition, to: to.value.trim() || partition, downstream: downstream.checked, force: force.checked });
  let shown = null;
  async function dryRun() {
    confirm.disabled = true;
    plan.replaceChildren(h('p', { class: 'muted', text: 'Reading the plan…' }));
    try {
      const answer = await postJson('/api/replay', { ...body(), dry_run: true });
      shown = JSON.stringify(body());
      plan.replaceChildren(planTable(answer.runs));
      confirm.textContent = `Replay ${answer.runs.length} run${answer.runs.length === 1 ? '' : 's'}`;
      confirm.disabled = answer.runs.length === 0;
    } catch (e) {
      plan.replaceChildren(h('p', { class: 'error', role: 'alert', text: `No plan: ${e.message}` }));
    }
  }
  confirm.addEventListener('click', async () => {
    if (shown !== JSON.stringify(body())) { dryRun(); return; } // the options changed: show the new plan first
    d.close();
    try {
      const answer = await postJson('/api/replay', body());
      const first = answer.runs.slice(0, 8).map((r) => [link(runHash(r.job, r.partition), `${r.job} ${showKey(r.partition)}`), ' ']);
      accepted(`Replay of ${answer.runs.length} run(s) from ${job} ${showKey(partition)}:`, answer, [first, answer.runs.length > 8 ? `and ${answer.runs.length - 8} more` : null]);
    } catch (e) { failed('The replay', e); }
  });
  for (const input of [to, downstream, force]) input.addEventListener('change', dryRun);
  open(`Replay ${job} ${showKey(partition)}`, h('div', {},
    h('p', { text: 'A replay makes a new generation of each run below and runs them again once their inputs are done. Nothing changes until you confirm.' }),
    h('div', { class: 'row' }, h('label', {}, 'to ', to), h('label', { for: 'replay-downstream' }, downstream, ' and everything downstream'),
      h('label', { for: 'replay-force' }, force, ' force (kill and replay runs that are running now)')),
    h('h3', { text: 'Plan (dry run)' }), plan,
    h('div', { class: 'buttons' }, cancelButton(d), confirm)));
  dryRun();
}

function planTable(runs) {
  if (runs.length === 0) return h('p', { text: 'Nothing to replay.' });
  return h('table', {}, h('thead', {}, h('tr', {}, ['run', 'now', 'generation', 'starts'].map((t) => h('th', { text: t })))),
    h('tbody', {}, runs.map((r) => h('tr', {},
      h('td', {}, `${'  '.repeat(r.depth)}${r.job} ${showKey(r.partition)}`),
      h('td', {}, badge(r.state)),
      h('td', { text: `${r.generation} → ${r.next_generation}` }),
      h('td', { text: r.starts_at_once ? 'at once' : `after ${r.waits_for.join(', ')}` })))));
}

export async function cancel(job, partition) {
  const d = dialog();
  const list = h('div', { class: 'plan', 'aria-live': 'polite' }, h('p', { class: 'muted', text: 'Reading what it would cancel…' }));
  const confirm = h('button', { type: 'button', class: 'danger', text: 'Cancel the runs', disabled: true, 'data-action': 'confirm-cancel' });
  open(`Cancel ${job} ${showKey(partition)}`, h('div', {}, list, h('div', { class: 'buttons' }, cancelButton(d), confirm)));
  try {
    const answer = await postJson('/api/cancel', { job, partition, dry_run: true });
    list.replaceChildren(h('p', { text: answer.what }), answer.runs.length === 0 ? h('p', { text: 'Nothing to cancel: no run is waiting, queued or running.' })
      : h('ul', {}, answer.runs.map((r) => h('li', {}, `${r.job} ${showKey(r.partition)} `, badge(r.state)))));
    confirm.disabled = answer.runs.length === 0;
  } catch (e) {
    list.replaceChildren(h('p', { class: 'error', role: 'alert', text: e.message }));
  }
  confirm.addEventListener('click', async () => {
    d.close();
    try {
      const answer = await postJson('/api/cancel', { job, partition });
      accepted(`Cancel of ${answer.runs.length} run(s):`, answer, [link(runHash(job, partition), `open ${job} ${showKey(partition)}`)]);
    } catch (e) { failed('The cancel', e); }
  });
}

export async function backfill() {
  const d = dialog();
  const from = h('input', { type: 'date', required: true, 'aria-label': 'From day' });
  const to = h('input', { type: 'date', required: true, 'aria-label': 'To day' });
  const jobs = h('select', { multiple: true, size: 6, 'aria-label': 'Jobs to start from (none: the roots)' });
  const parallel = h('input', { type: 'number', min: 1, max: 1000, value: 4, 'aria-label': 'At most this many runs at once' });
  const go = h('button', { type: 'submit', class: 'primary', text: 'Start the backfill', 'data-action': 'confirm-backfill' });
  const form = h('form', { method: 'dialog' },
    h('p', { text: 'Runs whole partitions of the chain over a range of days, from the jobs chosen (none chosen: the roots).' }),
    h('div', { class: 'row' }, h('label', {}, 'from ', from), h('label', {}, 'to ', to), h('label', {}, 'max parallel ', parallel)),
    h('label', {}, 'jobs', h('br'), jobs),
    h('div', { class: 'buttons' }, cancelButton(d), go));
  open('Backfill', form);
  getJson('/api/jobs').then((all) => jobs.replaceChildren(...all.map((j) => h('option', { value: j.name, text: j.name })))).catch(() => {});
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    d.close();
    const chosen = [...jobs.selectedOptions].map((o) => o.value);
    try {
      const answer = await postJson('/api/backfills', { from: from.value, to: to.value, ...(chosen.length ? { jobs: chosen } : {}), max_parallel: Number(parallel.value) || 4 });
      accepted(`Backfill ${answer.backfill} of ${answer.from}..${answer.to} from ${answer.start_jobs.join(', ')}:`, answer,
        [link(`#/?from=${answer.from}&to=${answer.to}`, 'show these days in the grid'), answer.notes?.length ? h('div', { class: 'muted', text: answer.notes.join(' ') }) : null]);
    } catch (err) { failed('The backfill', err); }
  });
}

export function tokenDialog() {
  const d = dialog();
  const input = h('input', { type: 'password', autocomplete: 'off', value: token.get(), 'aria-label': 'API token', size: 40 });
  const form = h('form', { method: 'dialog' },
    h('p', { text: 'When the server has CASCADE_API_TOKEN set, every action needs it. It is kept in this tab only (sessionStorage) and sent as Authorization: Bearer.' }),
    input,
    h('div', { class: 'buttons' }, h('button', { type: 'button', text: 'Forget it', onclick: () => { token.set(''); d.close(); toast(['The API token is forgotten.']); } }),
      h('button', { type: 'submit', class: 'primary', text: 'Keep for this tab' })));
  form.addEventListener('submit', (e) => { e.preventDefault(); token.set(input.value.trim()); d.close(); toast([token.get() ? 'The API token is kept for this tab.' : 'No API token.']); });
  open('API token', form);
  input.focus();
}
