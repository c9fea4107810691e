// Small DOM helpers. Everything is built with createElement and textContent:
// no innerHTML, so recorded data (caller names, SIP text) can never inject
// markup, and no inline style attributes (the CSP forbids them; element.style
// set from script is allowed).

const SVG = 'http://www.w3.org/2000/svg';

function build(el, props, children) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && !(el instanceof SVGElement) && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h('div', {class: 'x', onclick: f}, 'text', child) creates an HTML element. */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

/** s('line', {x1: 0, ...}) creates an SVG element. */
export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG, tag), props, children);
}

/** clear removes every child of el and returns it. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/** isTyping tells whether a key event belongs to a control that uses the key itself. */
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return !!target.closest('input, textarea, select, button, a[href], summary, [role="button"], [contenteditable="true"], dialog');
}
