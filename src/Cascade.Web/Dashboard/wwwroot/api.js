// The HTTP API (docs/api.md). Writes send the token the user entered (kept in sessionStorage only).
const TOKEN_KEY = 'cascade.api-token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY),
};

/** A refusal of the API: its status and the problem document's detail and field. */
export class ApiError extends Error {
  constructor(status, detail, field) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.field = field ?? null;
  }
}

async function read(response) {
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    throw new ApiError(response.status, data?.detail ?? (text || response.statusText), data?.field);
  }
  return data;
}

export async function getJson(path, signal) {
  return read(await fetch(path, { signal, headers: { Accept: 'application/json' }, cache: 'no-store' }));
}

export async function postJson(path, body) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  return read(await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) }));
}
