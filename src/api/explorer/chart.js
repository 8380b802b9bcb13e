// Releases per year as an SVG line chart with axes; hovering (or focusing) a point shows its value.

import { h, s } from './dom.js';

export function trendsChart(data, title) {
  const width = 720;
  const height = 300;
  const margin = { top: 20, right: 16, bottom: 34, left: 52 };
  const years = data.map((d) => d.year);
  const counts = data.map((d) => d.count);
  const [first, last] = [Math.min(...years), Math.max(...years)];
  const top = Math.max(...counts, 1);
  const x = (year) => margin.left + (last === first ? 0.5 : (year - first) / (last - first)) * (width - margin.left - margin.right);
  const y = (count) => height - margin.bottom - (count / top) * (height - margin.top - margin.bottom);
  const readout = h('p', { class: 'readout', 'aria-live': 'polite' }, 'Hover a point for its year.');
  const chart = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  const axis = s('g', { class: 'axis' },
    s('line', { x1: margin.left, y1: height - margin.bottom, x2: width - margin.right, y2: height - margin.bottom }),
    s('line', { x1: margin.left, y1: margin.top, x2: margin.left, y2: height - margin.bottom }));
  for (const tick of ticks(first, last, 8)) {
    axis.append(s('text', { x: x(tick), y: height - margin.bottom + 18, 'text-anchor': 'middle' }, tick));
  }
  for (const tick of ticks(0, top, 5)) {
    axis.append(
      s('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }),
      s('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, tick.toLocaleString('en')));
  }
  const line = data.map((d, i) => `${i ? 'L' : 'M'}${x(d.year).toFixed(1)},${y(d.count).toFixed(1)}`).join('');
  chart.append(axis, s('path', { class: 'line', d: line }));
  for (const d of data) {
    const text = `${d.year}: ${d.count.toLocaleString('en')} release${d.count === 1 ? '' : 's'}`;
    const show = () => { readout.textContent = text; };
    chart.append(s('circle', {
      class: 'point', cx: x(d.year), cy: y(d.count), r: 4, tabindex: 0,
      'data-year': d.year, 'data-count': d.count, onpointerenter: show, onfocus: show,
    }, s('title', {}, text)));
  }
  return h('figure', { class: 'trends' }, chart, h('figcaption', {}, title), readout);
}

/** Round values from `low` to `high`, about `count` of them. */
function ticks(low, high, count) {
  if (high <= low) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw);
  const values = [];
  for (let v = Math.ceil(low / step) * step; v <= high; v += step) values.push(Math.round(v));
  return values;
}
