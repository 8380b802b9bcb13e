// Building the page. Every string from the data goes in as a text node, never as HTML.

const SVG = 'http://www.w3.org/2000/svg';

function fill(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function attributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : String(value));
  }
  return el;
}

/** An HTML element: h('a', {href}, 'text', child, …). */
export function h(tag, attrs, ...children) {
  return fill(attributes(document.createElement(tag), attrs), children);
}

/** An SVG element, the same way. */
export function s(tag, attrs, ...children) {
  return fill(attributes(document.createElementNS(SVG, tag), attrs), children);
}

/** Replaces what `el` holds. */
export function put(el, ...children) {
  el.replaceChildren();
  return fill(el, children);
}

export const loading = (what) => h('p', { class: 'state loading', role: 'status' }, `Loading ${what}…`);
export const failure = (what, error) =>
  h('p', { class: 'state error', role: 'alert' }, `Could not load ${what}: ${error.message}`);
export const nothing = (text) => h('p', { class: 'state empty' }, text);

/** A search headline (HTML-escaped text with matches in <b>) as text nodes and <mark>s. */
export function headline(html) {
  const entities = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
  const text = (part) => part.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => entities[entity]);
  return html.split(/(<b>.*?<\/b>)/).filter(Boolean).map((part) =>
    part.startsWith('<b>') ? h('mark', {}, text(part.slice(3, -4))) : text(part));
}

export const number = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '–');
