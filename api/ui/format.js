// Formatting of times, durations and call fields for display. Times are
// shown in the browser's time zone, or in UTC when the user chose so (the
// choice is kept in localStorage); the full UTC time is in title attributes.

const pad = (n, w = 2) => String(n).padStart(w, '0');

const UTC_KEY = 'spanrec.utc';

/** utc tells whether times are shown in UTC rather than the browser's zone. */
export function utc() {
  try { return localStorage.getItem(UTC_KEY) === '1'; } catch { return false; }
}

/** setUTC stores the user's choice of UTC (true) or the browser's zone. */
export function setUTC(on) {
  try { localStorage.setItem(UTC_KEY, on ? '1' : '0'); } catch { /* private mode: not kept */ }
}

// The calendar fields of d in the zone times are shown in.
function fields(d) {
  return utc()
    ? { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), ms: d.getUTCMilliseconds() }
    : { y: d.getFullYear(), mo: d.getMonth() + 1, d: d.getDate(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds(), ms: d.getMilliseconds() };
}

/** date parses an RFC 3339 string; null for empty or invalid input. */
export function date(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** dateTime formats an RFC 3339 time as "2026-11-01 09:00:14" (local time or UTC). */
export function dateTime(iso) {
  const d = date(iso);
  if (!d) return '';
  const f = fields(d);
  return `${f.y}-${pad(f.mo)}-${pad(f.d)} ${clock(d)}`;
}

/** clock formats a Date as "09:00:14". */
export function clock(d, millis = false) {
  const f = fields(d);
  const base = `${pad(f.h)}:${pad(f.mi)}:${pad(f.s)}`;
  return millis ? `${base}.${pad(f.ms, 3)}` : base;
}

/** duration formats milliseconds as "0:06", "12:03" or "1:02:03". */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const t = Math.round(ms / 1000);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/** position formats seconds as "0:01.2" for the player. */
export function position(sec) {
  if (!Number.isFinite(sec) || sec < 0) sec = 0;
  const m = Math.floor(sec / 60);
  const rest = sec - m * 60;
  return `${m}:${rest < 10 ? '0' : ''}${rest.toFixed(1)}`;
}

/** timezone names the zone times are shown in: "UTC", or the browser's offset, e.g. "UTC+01:00". */
export function timezone() {
  if (utc()) return 'UTC';
  const off = -new Date().getTimezoneOffset();
  if (off === 0) return 'UTC';
  const a = Math.abs(off);
  return `UTC${off < 0 ? '−' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** toLocalInput turns an RFC 3339 time into a datetime-local input value. */
export function toLocalInput(iso) {
  const d = date(iso);
  if (!d) return '';
  const f = fields(d);
  return `${f.y}-${pad(f.mo)}-${pad(f.d)}T${pad(f.h)}:${pad(f.mi)}`;
}

/** fromLocalInput turns a datetime-local input value (in the zone times are shown in) into RFC 3339 UTC. */
export function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(utc() && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(v) ? `${v}Z` : v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace('.000Z', 'Z');
}

export const directionLabel = {
  inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal', unknown: 'Unknown',
};
export const directionIcon = {
  inbound: '↘', outbound: '↗', internal: '⇄', unknown: '·',
};
export const statusLabel = {
  answered: 'Answered', 'no-answer': 'No answer', busy: 'Busy', cancelled: 'Cancelled',
  failed: 'Failed', ongoing: 'In progress',
};

/** party formats a number with its display name: "Alice (201)" or "201". */
export function party(number, name) {
  if (name && number) return `${name} (${number})`;
  return name || number || 'unknown';
}

/** worstMOS is the lowest MOS over a call's streams that have one, or 0. */
export function worstMOS(call) {
  let mos = 0;
  for (const st of call.streams || []) {
    if (st.mos > 0 && (mos === 0 || st.mos < mos)) mos = st.mos;
  }
  return mos;
}

/** mosGrade names the quality band of a MOS value (ITU-T G.107 Annex B user satisfaction). */
export function mosGrade(mos) {
  if (!(mos > 0)) return 'none';
  if (mos >= 4.03) return 'good';
  if (mos >= 3.6) return 'fair';
  if (mos >= 3.1) return 'poor';
  return 'bad';
}

export const mosText = {
  good: 'good', fair: 'fair', poor: 'poor', bad: 'bad', none: 'no RTP',
};

/** lossPercent is lost/(packets+lost) in percent over the given streams. */
export function lossPercent(streams) {
  let lost = 0, got = 0;
  for (const st of streams || []) { lost += st.lost || 0; got += st.packets || 0; }
  return got + lost > 0 ? (100 * lost) / (got + lost) : 0;
}

/** percent formats a percentage with one decimal below 10 %. */
export function percent(p) {
  return p < 10 ? `${p.toFixed(1)} %` : `${Math.round(p)} %`;
}
