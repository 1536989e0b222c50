// Element builders. Every value is set as text (textContent / text nodes) or as an attribute,
// never parsed as HTML: nothing from a marker, a job name or a log can become markup.
const SVG = 'http://www.w3.org/2000/svg';

function build(el, props, children) {
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') for (const [name, value] of Object.entries(v)) el.style.setProperty(name, value); // CSSOM: allowed by the CSP
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An HTML element: h('a', {href, class, text}, ...children). */
export const h = (tag, props, ...children) => build(document.createElement(tag), props, children);

/** An SVG element. */
export const s = (tag, props, ...children) => build(document.createElementNS(SVG, tag), props, children);

/** A link inside the dashboard: href="#/…". */
export const link = (hash, text, props = {}) => h('a', { href: hash, ...props, text });

export const runHash = (job, partition) => `#/runs/${encodeURIComponent(job)}/${encodeURIComponent(partition)}`;
export const dagHash = (partition) => `#/dag/${encodeURIComponent(partition)}`;

// Partitions: "20190312" (day) or "2019031205" (hour), UTC dates in the pipeline's calendar.
export const keyOf = (date) => date.toISOString().slice(0, 10).replaceAll('-', '');
export const dateOf = (key) => new Date(Date.UTC(+key.slice(0, 4), +key.slice(4, 6) - 1, +key.slice(6, 8)));
export const addDays = (date, n) => new Date(date.getTime() + n * 86400000);
export const isoDay = (key) => `${key.slice(0, 4)}-${key.slice(4, 6)}-${key.slice(6, 8)}`;
export const showKey = (key) => key.length === 10 ? `${isoDay(key)} ${key.slice(8)}:00` : isoDay(key);
export const fromIso = (iso) => iso.replaceAll('-', '');

/** A time of the API (ISO 8601 UTC) shown as "2019-03-12 05:00:01Z"; "–" when not reached. */
export function time(iso) {
  if (!iso) return '–';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A duration between two ISO times (or until now): "1.2 s", "3 m 04 s", "2 h 05 m". */
export function duration(fromIso, toIso) {
  if (!fromIso) return '–';
  const ms = (toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso);
  return span(ms);
}

export function span(ms) {
  const neg = ms < 0; ms = Math.abs(ms);
  let text;
  if (ms < 60000) text = `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  else if (ms < 3600000) text = `${Math.floor(ms / 60000)} m ${String(Math.floor(ms / 1000) % 60).padStart(2, '0')} s`;
  else if (ms < 86400000 * 2) text = `${Math.floor(ms / 3600000)} h ${String(Math.floor(ms / 60000) % 60).padStart(2, '0')} m`;
  else text = `${Math.floor(ms / 86400000)} d ${Math.floor(ms / 3600000) % 24} h`;
  return neg ? `-${text}` : text;
}
