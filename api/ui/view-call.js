// #/calls/{id}: one call — who, when, status and notes; the recording with
// a waveform per party, DTMF marks and a playhead; per-stream quality; the
// tags and notes people added; the SIP ladder with each message's raw
// text; downloads; delete (admins). #/calls/{id}?t=73.5 opens the call
// with the player and the waveform at 73.5 s.

import { APIError, callURL, del, get } from './api.js';
import { go, toast } from './app.js';
import { h, s, isTyping } from './dom.js';
import * as f from './format.js';
import { Ladder, label as msgLabel } from './ladder.js';
import { Waveform } from './waveform.js';
import { annotations } from './call-notes.js';
import { legalHold } from './legal-hold.js';
import { qualityCharts } from './quality-charts.js';

const icon = {
  play: () => s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', class: 'icon' }, s('path', { d: 'M7 4.5v15l13-7.5z' })),
  pause: () => s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', class: 'icon' }, s('path', { d: 'M6 4h4.5v16H6zM13.5 4H18v16h-4.5z' })),
  download: () => s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', class: 'icon' }, s('path', { d: 'M11 3h2v10.2l3.6-3.6 1.4 1.4-6 6-6-6 1.4-1.4 3.6 3.6zM4 19h16v2H4z' })),
};

export async function showCall(ctx) {
  const id = ctx.param;
  const call = await get(callURL(id), ctx.signal);
  const title = `${f.party(call.caller, call.caller_name)} → ${f.party(call.callee, call.callee_name)}`;
  document.title = `${title} · spanrec`;
  const cleanups = [];

  ctx.main.append(...[
    h('p', { class: 'crumbs' }, h('a', { href: '#/calls', class: 'back' }, '← All calls')),
    header(call, title, ctx),
    notes(call)].filter(Boolean));

  const playerBox = h('section', { class: 'panel player', 'aria-labelledby': 'player-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'player-title' }, 'Recording')));
  ctx.main.append(playerBox);
  const other = betterCopy(call);
  if (other) playerBox.append(other);
  if (call.audio) cleanups.push(player(playerBox, call, ctx));
  else {
    let why = '.';
    if (call.status !== 'answered') why = ': it was not answered.';
    else if ((call.notes || []).length) why = ': see the notes above.';
    playerBox.append(h('p', { class: 'empty-note', id: 'no-audio' }, `No audio was recorded for this call${why}`,
      call.pcap ? ' Its packets are in the pcap download.' : ''));
  }

  ctx.main.append(quality(call));
  ctx.main.append(h('div', { class: 'grid-2' }, annotations(call, ctx), details(call)));

  const ladderBox = h('section', { class: 'panel ladder-panel', 'aria-labelledby': 'ladder-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'ladder-title' }, 'SIP ladder'),
      h('span', { class: 'muted' }, 'Select a message to see its raw text')));
  ctx.main.append(ladderBox);
  cleanups.push(await ladder(ladderBox, call, ctx));

  ctx.main.querySelector('h1').focus({ preventScroll: true });
  return () => cleanups.forEach((c) => c && c());
}

function header(call, title, ctx) {
  const mos = f.worstMOS(call);
  const grade = f.mosGrade(mos);
  const actions = h('div', { class: 'head-actions' },
    call.audio ? h('a', { class: 'btn', href: `${callURL(call.id, 'audio')}?download=1`, download: `${call.id}.wav`, id: 'download-audio' }, icon.download(), 'Audio (WAV)') : null,
    call.pcap ? h('a', { class: 'btn', href: callURL(call.id, 'pcap'), download: `${call.id}.pcapng`, id: 'download-pcap' }, icon.download(), 'Packets (pcap)') : null,
    legalHold(call, ctx),
    ctx.session.role === 'admin' ? h('button', { type: 'button', class: 'btn btn-danger', onclick: () => confirmDelete(call) }, 'Delete…') : null);
  const facts = h('ul', { class: 'facts', 'aria-label': 'Summary' },
    h('li', {}, h('span', { class: ['pill', `st-${call.status}`] }, f.statusLabel[call.status] || call.status, call.status_code ? ` · ${call.status_code}` : '')),
    h('li', { class: ['dir', `dir-${call.direction}`] }, h('span', { class: 'dir-icon', 'aria-hidden': 'true' }, f.directionIcon[call.direction] || ''), f.directionLabel[call.direction] || call.direction),
    h('li', { title: call.start }, h('span', { class: 'fact-label' }, 'Started '), f.dateTime(call.start)),
    h('li', {}, h('span', { class: 'fact-label' }, 'Talk time '), call.duration_ms > 0 ? f.duration(call.duration_ms) : '–'),
    (call.codecs || []).length ? h('li', {}, h('span', { class: 'fact-label' }, 'Codec '), call.codecs.join(', ')) : null,
    (call.legs || []).length ? h('li', { id: 'legs' }, h('span', { class: 'fact-label' }, 'Other legs '),
      call.legs.map((id, i) => [i ? ', ' : '', h('a', { href: `#/calls/${encodeURIComponent(id)}` }, id.slice(0, 8))]).flat(),
      ' · ', h('a', { href: `#/calls?interaction=${encodeURIComponent(call.interaction)}` }, 'all legs')) : null,
    copies(call),
    h('li', {}, h('span', { class: ['mos', `mos-${grade}`] }, mos > 0 ? `MOS ${mos.toFixed(1)}` : 'No RTP'), mos > 0 ? h('span', { class: 'muted' }, ` ${f.mosText[grade]}`) : null));
  return h('div', { class: 'call-head' },
    h('div', { class: 'call-title' }, h('h1', { tabindex: '-1', id: 'call-title' }, title), facts),
    actions);
}

// The same call recorded by several sensors (call.copies, best first):
// which sensor each copy came from, the directions its recording holds,
// and which copy gives each direction's audio (call.audio_from).
const sidesText = (c) => (c.sides.length === 2 ? 'both directions' : c.sides.length ? `${c.sides[0]} only` : 'no audio');

function copies(call) {
  const cs = call.copies || [];
  if (cs.length < 2) return null;
  const from = call.audio_from || {};
  const role = (c) => (from.caller === c.id && from.callee === c.id ? ', played'
    : from.caller === c.id ? ", caller's audio" : from.callee === c.id ? ", callee's audio" : '');
  return h('li', { id: 'copies' }, h('span', { class: 'fact-label' }, `Recorded by ${cs.length} sensors `),
    cs.map((c, i) => [i ? ', ' : '',
      c.id === call.id
        ? h('strong', { title: `this copy, ${c.id}` }, c.sensor || 'not named')
        : h('a', { href: `#/calls/${encodeURIComponent(c.id)}`, title: c.id }, c.sensor || 'not named'),
      ` (${sidesText(c)}${role(c)})`]).flat());
}

// betterCopy says, on a copy that is not the one to play, which copy holds
// the audio: the copy with both directions, or one per direction.
function betterCopy(call) {
  const from = call.audio_from || {};
  const cs = call.copies || [];
  if (cs.length < 2 || (from.caller === call.id && from.callee === call.id)) return null;
  const link = (id) => {
    const c = cs.find((x) => x.id === id);
    return h('a', { href: `#/calls/${encodeURIComponent(id)}` }, `sensor ${c && c.sensor ? c.sensor : id.slice(0, 8)}`);
  };
  const msg = from.caller && from.caller === from.callee
    ? ['This copy holds ', sidesText(cs.find((x) => x.id === call.id) || { sides: [] }), '; ', link(from.caller), ' recorded both directions.']
    : ["The caller's audio is best in the copy of ", from.caller ? link(from.caller) : 'no sensor',
      ", the callee's in the copy of ", from.callee ? link(from.callee) : 'no sensor', '.'];
  return h('p', { class: 'copy-note', id: 'better-copy', role: 'note' }, ...msg);
}

function notes(call) {
  const list = [...(call.notes || [])];
  const loss = f.lossPercent(call.streams);
  if (call.capture_loss || loss > 0) {
    const lost = (call.streams || []).reduce((a, st) => a + (st.lost || 0), 0);
    list.unshift(`Packet loss: ${lost} RTP packet${lost === 1 ? '' : 's'} lost (${f.percent(loss)}); gaps are silent in the recording.`);
  }
  if (list.length === 0) return null;
  return h('div', { class: 'notes', role: 'note', 'aria-label': 'Notes about this call' },
    h('span', { class: 'notes-icon', 'aria-hidden': 'true' }, '⚠'),
    h('ul', {}, list.map((n) => h('li', {}, n))));
}

function player(box, call, ctx) {
  const src = callURL(call.id, 'audio');
  // preload=none: nothing is fetched (and audited as a playback) until Play.
  const audio = h('audio', { preload: 'none', src, id: 'audio' });
  const playBtn = h('button', { type: 'button', class: 'btn btn-primary btn-play', id: 'play', 'aria-label': 'Play', 'aria-keyshortcuts': 'Space' }, icon.play(), h('span', { class: 'play-text' }, 'Play'));
  const durationSec = (call.audio_ms || call.duration_ms || 0) / 1000;
  const clock = h('span', { class: 'clock', id: 'clock', 'aria-live': 'off' }, `${f.position(0)} / ${f.position(durationSec)}`);
  const speed = h('select', { id: 'speed', 'aria-label': 'Playback speed' },
    [0.75, 1, 1.25, 1.5, 2].map((r) => h('option', { value: String(r), selected: r === 1 }, `${r}×`)));
  const state = h('span', { class: 'player-state', role: 'status' });
  const waveBox = h('div', { class: 'wave-box' }, h('p', { class: 'loading' }, 'Loading waveform…'));

  box.querySelector('.panel-head').append(h('span', { class: 'muted' }, 'Space plays and pauses · click the waveform to seek'));

  let wave = null;
  let pos = 0; // where the player is (audio.currentTime lags until the audio loads)
  const seek = (t) => {
    pos = t;
    audio.currentTime = t;
    wave && wave.setTime(t);
    clock.textContent = `${f.position(t)} / ${f.position(durationSec)}`;
  };
  // #/calls/{id}?t=SECONDS: start there (a link to a moment of the call).
  const startAt = Number(ctx.query.get('t'));
  if (ctx.query.has('t') && Number.isFinite(startAt) && startAt >= 0) seek(Math.min(startAt, durationSec));
  const shareBtn = h('button', {
    type: 'button', class: 'btn', id: 'share-moment', title: 'Copy a link that opens this call at the current position',
    onclick: () => {
      const t = Math.round((audio.paused && audio.readyState < 1 ? pos : audio.currentTime) * 10) / 10;
      const url = `${location.origin}${location.pathname}#/calls/${encodeURIComponent(call.id)}?t=${t}`;
      history.replaceState(null, '', `#/calls/${encodeURIComponent(call.id)}?t=${t}`);
      const done = () => toast(`Link to ${f.position(t)} copied.`);
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(done, () => toast(`Link: ${url}`));
      else toast(`Link: ${url}`);
    },
  }, 'Link to this moment');
  // Spectrogram toggle: the lanes show frequencies over time instead of
  // levels (fetched once, on first use; audited like the waveform).
  let spec = null;
  const specBtn = h('button', {
    type: 'button', class: 'btn', id: 'spectrogram', 'aria-pressed': 'false',
    title: 'Show each party\'s frequencies over time (0 Hz at the bottom of a lane)',
    onclick: async () => {
      if (!wave) return;
      const on = specBtn.getAttribute('aria-pressed') !== 'true';
      if (on && !spec) {
        specBtn.disabled = true;
        try {
          const cols = Math.min(2000, Math.max(200, Math.round(waveBox.clientWidth)));
          spec = await get(`${callURL(call.id, 'spectrogram')}?columns=${cols}`, ctx.signal);
        } catch (err) {
          if (err.name !== 'AbortError') toast(`The spectrogram is not available: ${err.message}`, 'error');
          return;
        } finally { specBtn.disabled = false; }
      }
      specBtn.setAttribute('aria-pressed', String(on));
      wave.setSpectrogram(on ? spec : null);
    },
  }, 'Spectrogram');
  box.append(h('div', { class: 'player-bar' }, playBtn, clock, h('label', { class: 'speed' }, 'Speed ', speed), shareBtn, specBtn, state), waveBox, audio);
  const toggle = () => {
    if (audio.paused) {
      state.textContent = audio.readyState < 2 ? 'Loading…' : '';
      audio.play().catch((err) => {
        if (err.name !== 'AbortError') state.textContent = `Cannot play: ${err.message}`;
      });
    } else audio.pause();
  };
  playBtn.addEventListener('click', toggle);
  speed.addEventListener('change', () => { audio.playbackRate = Number(speed.value); });

  let raf = 0;
  const tick = () => {
    if (audio.readyState >= 1) pos = audio.currentTime;
    wave && wave.setTime(pos);
    clock.textContent = `${f.position(pos)} / ${f.position(audio.duration || durationSec)}`;
    raf = audio.paused ? 0 : requestAnimationFrame(tick);
  };
  audio.addEventListener('play', () => {
    playBtn.replaceChildren(icon.pause(), h('span', { class: 'play-text' }, 'Pause'));
    playBtn.setAttribute('aria-label', 'Pause');
    if (!raf) raf = requestAnimationFrame(tick);
  });
  audio.addEventListener('playing', () => { state.textContent = ''; });
  audio.addEventListener('pause', () => {
    playBtn.replaceChildren(icon.play(), h('span', { class: 'play-text' }, 'Play'));
    playBtn.setAttribute('aria-label', 'Play');
    tick();
  });
  audio.addEventListener('timeupdate', () => { if (!raf) tick(); });
  audio.addEventListener('error', () => {
    const e = audio.error;
    state.textContent = `The recording could not be loaded${e && e.message ? ` (${e.message})` : ''}.`;
    state.classList.add('error-text');
  });

  const onKey = (e) => {
    if (e.key !== ' ' || e.ctrlKey || e.altKey || e.metaKey) return;
    if (isTyping(e.target) && e.target !== wave?.slider) return;
    e.preventDefault();
    toggle();
  };
  document.addEventListener('keydown', onKey);

  const audioStart = f.date(call.audio_start) || f.date(call.answer) || f.date(call.start);
  const at = (iso) => (f.date(iso) - audioStart) / 1000;
  const marks = [];
  const answerAt = call.answer ? at(call.answer) : -1;
  if (answerAt > 0.5 && answerAt < durationSec) {
    marks.push({ at: answerAt, text: 'Answer', title: `Answered at ${f.position(answerAt)} (audio before it is early media)`, kind: 'answer' });
  }
  for (const d of call.dtmf || []) {
    const t = at(d.at);
    if (t >= 0 && t <= durationSec) {
      marks.push({
        at: t, text: d.digit, kind: 'dtmf', lane: d.side === 'callee' ? 1 : 0,
        title: `DTMF ${d.digit} from the ${d.side} at ${f.position(t)} (${d.source === 'sip-info' ? 'SIP INFO' : 'RFC 4733'}${d.duration_ms ? `, ${d.duration_ms} ms` : ''})`,
      });
    }
  }

  // Spans the SDP kept a side silent (hold, one-way by negotiation): shaded,
  // so that silence there does not look like lost audio.
  const spans = [];
  for (const hd of call.holds || []) {
    const from = Math.max(0, at(hd.start)), to = Math.min(durationSec, at(hd.end));
    if (to > from) spans.push({ from, to, lane: hd.side === 'callee' ? 1 : 0 });
  }
  for (const s of spans) {
    const who = s.lane === 1 ? 'callee' : 'caller';
    marks.push({
      at: s.from, text: 'Hold', kind: 'hold', lane: s.lane,
      title: `The ${who} sends no audio from ${f.position(s.from)} to ${f.position(s.to)}, as the SDP asked (hold or one-way)`,
    });
  }

  const points = Math.min(4000, Math.max(400, Math.round(waveBox.clientWidth * (window.devicePixelRatio || 1))));
  get(`${callURL(call.id, 'waveform')}?points=${points}`, ctx.signal).then((wf) => {
    wave = new Waveform({
      peaks: wf.peaks || [],
      durationSec: (wf.duration_ms || call.audio_ms) / 1000,
      lanes: [
        { label: `Caller · ${f.party(call.caller, call.caller_name)}`, kind: 'caller' },
        { label: `Callee · ${f.party(call.callee, call.callee_name)}`, kind: 'callee' },
      ],
      marks,
      spans,
      onSeek: seek,
    });
    waveBox.replaceChildren(wave.el);
    wave.setTime(pos);
    // Jitter, loss and MOS over time, on the waveform's time axis.
    return get(callURL(call.id, 'quality'), ctx.signal).then((q) => {
      const charts = qualityCharts(q.streams || [], audioStart, (wf.duration_ms || call.audio_ms) / 1000, seek);
      if (charts) waveBox.append(charts);
    }, (err) => {
      if (err.name !== 'AbortError') waveBox.append(h('p', { class: 'empty-note' }, `Quality over time is not available: ${err.message}`));
    });
  }).catch((err) => {
    if (err.name === 'AbortError') return;
    waveBox.replaceChildren(h('p', { class: 'empty-note' }, `The waveform is not available: ${err.message}`));
  }).finally(() => {
    // Nothing above the page's lower panels moves any more (the tests
    // wait for this before they click there).
    waveBox.dataset.loaded = 'true';
  });

  return () => {
    document.removeEventListener('keydown', onKey);
    cancelAnimationFrame(raf);
    audio.pause();
    audio.removeAttribute('src');
    audio.load();
    wave && wave.destroy();
  };
}

function quality(call) {
  const streams = call.streams || [];
  const box = h('section', { class: 'panel quality', id: 'quality', 'aria-labelledby': 'quality-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'quality-title' }, 'Media quality')));
  if (streams.length === 0) {
    box.append(h('p', { class: 'empty-note' }, 'No RTP streams were seen for this call.'));
    return box;
  }
  const th = (t, cls, title) => h('th', { scope: 'col', class: cls, title }, t);
  box.append(h('div', { class: 'table-scroll' }, h('table', { class: 'streams', id: 'streams' },
    h('caption', { class: 'sr-only' }, 'RTP streams with packets, loss, jitter and MOS'),
    h('thead', {}, h('tr', {},
      th('Leg'), th('Codec'), th('Packets', 'num'), th('Lost', 'num'),
      h('th', { scope: 'col', class: 'num', title: 'RFC 3550 interarrival jitter: mean over the stream / largest value, in milliseconds' },
        'Jitter', h('span', { class: 'th-sub' }, 'mean / max ms')),
      th('Max gap', 'num', 'Largest gap between packets'), th('MOS', 'num', 'ITU-T G.107 E-model estimate'))),
    h('tbody', {}, streams.map((st) => {
      const loss = f.lossPercent([st]);
      const grade = f.mosGrade(st.mos);
      // data-label names each cell where the narrow layout drops the header.
      const mean = st.mean_jitter_ms > 0 || !(st.max_jitter_ms > 0) ? (st.mean_jitter_ms || 0).toFixed(1) : '–';
      return h('tr', { class: st.lost > 0 ? 'has-loss' : undefined },
        h('td', { class: 'leg', 'data-label': 'Leg' },
          h('span', { class: 'leg-name' }, st.side === 'caller' ? 'Caller → callee' : st.side === 'callee' ? 'Callee → caller' : st.side || 'Unknown'),
          h('span', { class: 'mono addr' }, `${st.src} → ${st.dst}`)),
        h('td', { 'data-label': 'Codec' }, st.codec || `PT ${st.payload_type}`, encryptionBadge(st),
          st.decoded === false && !st.encryption ? h('span', { class: 'sub warn-text', title: 'This codec cannot be decoded; the audio is only in the pcap' }, 'not decoded') : null),
        h('td', { class: 'num', 'data-label': 'Packets' }, String(st.packets),
          st.duplicates || st.out_of_order ? h('span', { class: 'sub', title: 'duplicates / out of order' }, `dup ${st.duplicates || 0} · ooo ${st.out_of_order || 0}`) : null),
        h('td', { class: ['num', st.lost > 0 ? 'warn-text' : null], 'data-label': 'Lost' }, String(st.lost || 0),
          st.lost > 0 ? h('span', { class: 'sub' }, f.percent(loss)) : null),
        h('td', { class: 'num', 'data-label': 'Jitter mean / max (ms)', title: `mean ${mean} ms, largest ${(st.max_jitter_ms || 0).toFixed(1)} ms, at the end ${(st.jitter_ms || 0).toFixed(1)} ms` },
          `${mean} / ${(st.max_jitter_ms || 0).toFixed(1)}`),
        h('td', { class: 'num', 'data-label': 'Max gap' }, st.max_delta_ms ? `${Math.round(st.max_delta_ms)} ms` : '–'),
        h('td', { class: 'num', 'data-label': 'MOS' }, h('span', { class: ['mos', `mos-${grade}`], title: f.mosText[grade] }, st.mos > 0 ? st.mos.toFixed(2) : '–')));
    })))));
  return box;
}

// encryptionName names a stream's encryption for people.
const encryptionName = { srtp: 'SRTP', zrtp: 'ZRTP', 'dtls-srtp': 'DTLS-SRTP', unknown: 'encrypted?' };

// encryptionBadge says whether an encrypted stream was decrypted, and why
// not (the call's notes give the details).
function encryptionBadge(st) {
  if (!st.encryption) return null;
  const name = encryptionName[st.encryption] || st.encryption;
  const fails = st.auth_failures ? ` · ${st.auth_failures} failed authentication` : '';
  if (st.decoded) {
    return h('span', { class: 'sub enc-badge', title: `Encrypted media, decrypted with its SRTP keys${fails}` }, `${name}, decrypted${fails}`);
  }
  const title = st.encryption === 'unknown'
    ? 'Its payload decodes to white noise: encrypted media whose encryption the signalling did not announce. Not recorded.'
    : 'Encrypted media that could not be decrypted (see the notes). The packets are only in the pcap.';
  return h('span', { class: 'sub warn-text enc-badge', title }, `${name}, not decrypted${fails}`);
}

function details(call) {
  const row = (k, v, cls) => [h('dt', {}, k), h('dd', { class: cls }, v)];
  const short = (hash) => (hash ? h('span', { title: `SHA-256 ${hash}` }, `${hash.slice(0, 16)}…`) : '–');
  const digits = (call.dtmf || []);
  return h('section', { class: 'panel', 'aria-labelledby': 'details-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'details-title' }, 'Details')),
    h('dl', { class: 'details' },
      row('DTMF', digits.length
        ? h('span', { class: 'digits', id: 'dtmf-digits' }, digits.map((d) => h('kbd', { title: `${d.side}, ${d.source}, ${f.dateTime(d.at)}` }, d.digit)))
        : 'none'),
      row('Answered', call.answer ? f.dateTime(call.answer) : 'not answered'),
      row('Ended', f.dateTime(call.end)),
      row('SIP Call-ID', call.call_id, 'mono wrap'),
      row('Recording ID', call.id, 'mono'),
      row('Sensor', call.sensor || 'not named', 'mono'),
      row('Audio', call.audio ? [f.position((call.audio_ms || 0) / 1000), ' · ', short(call.audio_sha256)] : 'none', 'mono'),
      row('Pcap', call.pcap ? short(call.pcap_sha256) : 'none', 'mono')));
}

async function ladder(box, call, ctx) {
  let messages;
  try {
    messages = await get(callURL(call.id, 'ladder'), ctx.signal);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    box.append(h('p', { class: 'empty-note' }, `The SIP messages are not available: ${err.message}`));
    return null;
  }
  if (!messages || messages.length === 0) {
    box.append(h('p', { class: 'empty-note' }, 'No SIP messages were kept for this call.'));
    return null;
  }
  const rawHead = h('div', { class: 'raw-head', id: 'raw-head' }, 'No message selected');
  const raw = h('pre', { class: 'raw', id: 'raw', tabindex: '0', 'aria-labelledby': 'raw-head' }, '');
  const lad = new Ladder(messages, call, (m) => {
    const t = f.date(m.time);
    rawHead.replaceChildren(
      h('strong', { class: 'raw-label' }, msgLabel(m)),
      h('span', { class: 'muted' }, ` ${m.src} → ${m.dst} · ${(m.transport || 'udp').toUpperCase()} · ${t ? f.clock(t, true) : m.time}`));
    raw.textContent = m.raw || '(no text)';
    raw.scrollTop = 0;
  });
  box.append(h('div', { class: 'ladder-wrap' }, lad.el, h('div', { class: 'raw-box' }, rawHead, raw)));
  lad.select(0, false);
  return () => lad.destroy();
}

function confirmDelete(call) {
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'del-title' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'del-title' }, 'Delete this call?'),
      h('p', {}, 'The recording, its pcap and its index entry are removed for good. The deletion is written to the audit log.'),
      h('div', { class: 'dialog-actions' },
        h('button', { value: 'cancel', class: 'btn', autofocus: true }, 'Cancel'),
        h('button', { value: 'delete', class: 'btn btn-danger-solid' }, 'Delete call'))));
  document.body.append(dlg);
  dlg.addEventListener('close', async () => {
    dlg.remove();
    if (dlg.returnValue !== 'delete') return;
    try {
      await del(callURL(call.id));
      toast('The call was deleted.');
      go('#/calls');
    } catch (err) {
      toast(err instanceof APIError ? `Delete failed: ${err.message}` : String(err), 'error');
    }
  });
  dlg.showModal();
}
