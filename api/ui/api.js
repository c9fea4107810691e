// The HTTP API client: JSON in and out, the session cookie, and the CSRF
// token the API wants on every state-changing request.

/** APIError is a failed API request; status is the HTTP status (0: network). */
export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrf = '';

/** setCSRF stores the token from /api/login or /api/me. */
export function setCSRF(token) {
  csrf = token || '';
}

/** getCSRF returns the session's CSRF token, for a form the page submits. */
export function getCSRF() {
  return csrf;
}

/**
 * request sends method path with an optional JSON body and returns the
 * decoded JSON answer (null when there is none). It throws APIError.
 */
export async function request(method, path, body, signal) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new APIError(0, 'The server cannot be reached.');
  }
  let data = null;
  if ((res.headers.get('Content-Type') || '').includes('json')) {
    data = await res.json().catch(() => null);
  }
  if (!res.ok) {
    throw new APIError(res.status, (data && data.error) || `${res.status} ${res.statusText}`);
  }
  return data;
}

export const get = (path, signal) => request('GET', path, undefined, signal);
export const post = (path, body, signal) => request('POST', path, body, signal);
export const del = (path, signal) => request('DELETE', path, undefined, signal);

/** query builds "?a=1&b=2" from the non-empty values of params. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** callURL is the API path of call id plus an optional sub-resource. */
export function callURL(id, sub = '') {
  return `/api/calls/${encodeURIComponent(id)}${sub ? `/${sub}` : ''}`;
}
