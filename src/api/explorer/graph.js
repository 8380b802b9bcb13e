// An interactive force-directed graph in SVG: pan (drag the background), zoom (wheel or the
// buttons), drag nodes; click a node to select it, double-click to re-centre on it. Nodes are
// {key, label, type, kind: 'center' | 'category' | 'child' | 'more', parent}; their positions
// survive a `set` that keeps their keys, so a page of children lands beside what was there.

import { h, s } from './dom.js';

const LENGTH = { category: 150, child: 85, more: 85 };
const RADIUS = { center: 18, category: 12, child: 8, more: 7 };

export class Graph {
  constructor(container, { onSelect, onRecenter, onMore }) {
    this.handlers = { onSelect, onRecenter, onMore };
    this.nodes = new Map();
    this.view = { x: 0, y: 0, k: 1 };
    this.svg = s('svg', { class: 'graph', role: 'group', 'aria-label': 'graph' });
    this.layer = s('g');
    this.links = s('g', { class: 'links' });
    this.dots = s('g', { class: 'nodes' });
    this.layer.append(this.links, this.dots);
    this.svg.append(this.layer);
    const zoom = (factor) => () => this.zoom(factor);
    const controls = h('div', { class: 'zoom' },
      h('button', { type: 'button', onclick: zoom(1.25), 'aria-label': 'zoom in' }, '+'),
      h('button', { type: 'button', onclick: zoom(0.8), 'aria-label': 'zoom out' }, '−'),
      h('button', { type: 'button', onclick: () => this.fit(), 'aria-label': 'fit the graph' }, '⤢'));
    container.append(this.svg, controls);
    this.panning();
    new ResizeObserver(() => this.apply()).observe(this.svg);
  }

  /** Replaces the nodes (by key) and redraws; positions of kept keys stay. */
  set(nodes) {
    const next = new Map();
    for (const node of nodes) {
      const old = this.nodes.get(node.key);
      const parent = next.get(node.parent) ?? this.nodes.get(node.parent);
      const angle = Math.random() * 2 * Math.PI;
      const from = parent ?? { x: 0, y: 0 };
      next.set(node.key, Object.assign(node, {
        x: old?.x ?? from.x + Math.cos(angle) * (LENGTH[node.kind] ?? 0),
        y: old?.y ?? from.y + Math.sin(angle) * (LENGTH[node.kind] ?? 0),
        vx: 0, vy: 0, fixed: old?.fixed ?? node.kind === 'center',
      }));
    }
    this.nodes = next;
    this.draw();
    this.simulate();
  }

  draw() {
    this.links.replaceChildren();
    this.dots.replaceChildren();
    for (const node of this.nodes.values()) {
      const parent = this.nodes.get(node.parent);
      if (parent) {
        node.line = s('line', { class: `link ${node.kind}` });
        node.line.source = parent;
        this.links.append(node.line);
      }
      const label = node.label.length > 28 ? `${node.label.slice(0, 27)}…` : node.label;
      node.el = s('g', {
        class: `node ${node.kind} ${node.type}`, tabindex: 0, role: 'button',
        'data-kind': node.kind, 'data-type': node.type, 'data-key': node.key,
        'aria-label': `${node.type} ${node.label}`,
      },
      s('title', {}, node.kind === 'child' ? `${node.label} (${node.type})` : node.label),
      s('circle', { r: RADIUS[node.kind] }),
      s('text', { x: RADIUS[node.kind] + 4, y: 4 }, label));
      this.interact(node);
      this.dots.append(node.el);
    }
    this.place();
  }

  interact(node) {
    const el = node.el;
    let start = null;
    el.addEventListener('pointerdown', (event) => {
      event.stopPropagation();
      capture(el, event);
      start = { x: event.clientX, y: event.clientY, moved: false };
    });
    el.addEventListener('pointermove', (event) => {
      if (!start) return;
      const dx = event.clientX - start.x;
      const dy = event.clientY - start.y;
      if (!start.moved && Math.hypot(dx, dy) < 4) return;
      start.moved = true;
      const point = this.point(event);
      Object.assign(node, { x: point.x, y: point.y, vx: 0, vy: 0, fixed: true });
      this.place();
    });
    el.addEventListener('pointerup', () => {
      const clicked = start && !start.moved;
      start = null;
      if (clicked) this.activate(node);
      else this.simulate();
    });
    el.addEventListener('dblclick', () => this.handlers.onRecenter?.(node));
    el.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.activate(node);
      }
    });
  }

  activate(node) {
    if (node.kind === 'more') return this.handlers.onMore?.(node);
    for (const other of this.nodes.values()) other.el.classList.toggle('selected', other === node);
    this.handlers.onSelect?.(node);
  }

  /** Runs the forces until the layout settles (or a few seconds pass). */
  simulate() {
    cancelAnimationFrame(this.frame);
    let alpha = 1;
    const nodes = [...this.nodes.values()];
    const step = () => {
      for (let i = 0; i < nodes.length; i++) {
        const a = nodes[i];
        for (let j = i + 1; j < nodes.length; j++) {
          const b = nodes[j];
          let dx = b.x - a.x;
          let dy = b.y - a.y;
          const d2 = Math.max(dx * dx + dy * dy, 400);
          const force = (4000 * alpha) / d2;
          const d = Math.sqrt(d2);
          dx /= d;
          dy /= d;
          a.vx -= dx * force; a.vy -= dy * force;
          b.vx += dx * force; b.vy += dy * force;
        }
      }
      for (const node of nodes) {
        const parent = this.nodes.get(node.parent);
        if (!parent) continue;
        const dx = node.x - parent.x;
        const dy = node.y - parent.y;
        const d = Math.max(Math.hypot(dx, dy), 1);
        const pull = ((d - LENGTH[node.kind]) / d) * 0.1 * alpha;
        node.vx -= dx * pull; node.vy -= dy * pull;
        parent.vx += dx * pull * 0.5; parent.vy += dy * pull * 0.5;
      }
      for (const node of nodes) {
        if (node.fixed) { node.vx = 0; node.vy = 0; continue; }
        // A faint pull to the middle keeps the drawing from drifting away.
        node.vx -= node.x * 0.002 * alpha; node.vy -= node.y * 0.002 * alpha;
        node.vx *= 0.6; node.vy *= 0.6;
        node.x += node.vx; node.y += node.vy;
      }
      this.place();
      alpha *= 0.985;
      if (alpha > 0.02) this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  place() {
    for (const node of this.nodes.values()) {
      node.el.setAttribute('transform', `translate(${node.x.toFixed(1)},${node.y.toFixed(1)})`);
      if (node.line) {
        node.line.setAttribute('x1', node.line.source.x.toFixed(1));
        node.line.setAttribute('y1', node.line.source.y.toFixed(1));
        node.line.setAttribute('x2', node.x.toFixed(1));
        node.line.setAttribute('y2', node.y.toFixed(1));
      }
    }
  }

  // Pan and zoom: the layer's transform, the origin at the middle of the drawing.
  apply() {
    const { width, height } = this.svg.getBoundingClientRect();
    const { x, y, k } = this.view;
    this.layer.setAttribute('transform', `translate(${width / 2 + x},${height / 2 + y}) scale(${k})`);
  }

  zoom(factor) {
    this.view.k = Math.min(4, Math.max(0.2, this.view.k * factor));
    this.apply();
  }

  fit() {
    const nodes = [...this.nodes.values()];
    const { width, height } = this.svg.getBoundingClientRect();
    const spread = Math.max(...nodes.map((n) => Math.max(Math.abs(n.x), Math.abs(n.y))), 1) + 60;
    this.view = { x: 0, y: 0, k: Math.min(2, Math.min(width, height) / (2 * spread)) };
    this.apply();
  }

  /** Where a pointer event is, in the layer's coordinates. */
  point(event) {
    const box = this.svg.getBoundingClientRect();
    const { x, y, k } = this.view;
    return {
      x: (event.clientX - box.left - box.width / 2 - x) / k,
      y: (event.clientY - box.top - box.height / 2 - y) / k,
    };
  }

  panning() {
    let from = null;
    this.svg.addEventListener('pointerdown', (event) => {
      from = { x: event.clientX - this.view.x, y: event.clientY - this.view.y };
      capture(this.svg, event);
    });
    this.svg.addEventListener('pointermove', (event) => {
      if (!from) return;
      this.view.x = event.clientX - from.x;
      this.view.y = event.clientY - from.y;
      this.apply();
    });
    this.svg.addEventListener('pointerup', () => { from = null; });
    this.svg.addEventListener('wheel', (event) => {
      event.preventDefault();
      this.zoom(event.deltaY < 0 ? 1.1 : 0.9);
    }, { passive: false });
  }
}

/** Keeps a drag's pointer events coming to `el` (a synthetic event has no pointer to keep). */
function capture(el, event) {
  try {
    el.setPointerCapture(event.pointerId);
  } catch {
    // Nothing to capture.
  }
}

/** The legend of node colours. */
export function legend() {
  return h('ul', { class: 'legend', 'aria-label': 'legend' },
    ['artist', 'label', 'release', 'master', 'genre', 'style'].map((type) =>
      h('li', {}, h('span', { class: `swatch ${type}` }), type)));
}
