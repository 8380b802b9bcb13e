// The explorer: one page whose URL holds the view (explore, trends, search, path, tree) and its
// entity and filters, so every view can be bookmarked and back/forward work.

import { api, EXPLORABLE, RECORD_TYPES, TRENDING } from './api.js';
import { autocomplete } from './autocomplete.js';
import { trendsChart } from './chart.js';
import { failure, h, headline, loading, nothing, number, put } from './dom.js';
import { Graph, legend } from './graph.js';

const PAGE = 10;
const SEARCH_PAGE = 20;
const main = document.getElementById('view');

// ------------------------------------------------------------------------------ routing

const params = () => Object.fromEntries(new URLSearchParams(location.search));

function href(query) {
  const kept = Object.entries(query).filter(([, value]) => value !== undefined && value !== null && value !== '');
  return kept.length ? `/?${new URLSearchParams(kept)}` : '/';
}

function go(query, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', href(query));
  render();
}

/** A link within the explorer: a real href (open in a new tab works), handled in place. */
function link(query, ...children) {
  return h('a', { href: href(query), 'data-nav': true }, ...children);
}

const explore = (type, name) => ({ view: 'explore', type, name });

document.addEventListener('click', (event) => {
  const anchor = event.target.closest('a[data-nav]');
  if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  history.pushState(null, '', anchor.getAttribute('href'));
  render();
});
window.addEventListener('popstate', render);

let rendering = 0;

async function render() {
  const query = params();
  const mine = ++rendering;
  const views = { explore: exploreView, trends: trendsView, search: searchView, path: pathView, tree: treeView };
  const view = views[query.view] ?? homeView;
  document.querySelectorAll('nav a').forEach((a) =>
    a.setAttribute('aria-current', String(new URL(a.href).searchParams.get('view') === query.view)));
  try {
    await view(query, () => mine === rendering);
  } catch (error) {
    if (mine === rendering) put(main, failure('this view', error));
  }
  window.explorerReady ??= performance.now();
}

// ------------------------------------------------------------------------------ home and totals

async function totals() {
  const footer = document.getElementById('totals');
  try {
    const stats = await api('/api/graph/stats');
    const parts = Object.entries(stats.counts).map(([type, count]) => `${number(count)} ${type}`);
    put(footer, `Catalogue: ${parts.join(' · ')}`);
    return stats;
  } catch (error) {
    put(footer, `Catalogue totals unavailable: ${error.message}`);
    return null;
  }
}
const statsLoaded = totals();

async function homeView() {
  document.title = 'Discogs explorer';
  put(main, loading('the catalogue'));
  const stats = await statsLoaded;
  put(main, h('section', { class: 'home' },
    h('h1', {}, 'Explore the Discogs catalogue'),
    h('p', {}, 'Type a name in the box above: an artist, a label, a genre or a style. ',
      'Or browse the ', link({ view: 'tree' }, 'genres and styles'), ', run a ',
      link({ view: 'search' }, 'full-text search'), ', or find the ', link({ view: 'path' }, 'path'),
      ' between two entities.'),
    stats ? h('ul', { class: 'cards' }, Object.entries(stats.counts).map(([type, count]) =>
      h('li', {}, h('strong', {}, number(count)), ` ${type}`))) : null));
}

// ------------------------------------------------------------------------------ explore

async function exploreView(query, current) {
  const { type, name } = query;
  if (!EXPLORABLE.includes(type) || !name) return put(main, nothing('Choose an artist, label, genre or style to explore.'));
  document.title = `${name} · Discogs explorer`;
  const before = query.before ? Number(query.before) : null;
  const status = h('p', { class: 'state loading', role: 'status' }, `Loading ${name}…`);
  const canvas = h('div', { class: 'canvas' });
  const panel = h('aside', { class: 'panel', 'aria-label': 'details', hidden: true });
  const tools = h('div', { class: 'tools' });
  put(main, h('section', { class: 'explore' },
    h('div', { class: 'heading' }, h('h1', {}, h('span', { class: `badge ${type}` }, type), ' ', name), tools),
    status, h('div', { class: 'stage' }, canvas, panel)));

  const center = await api('/api/explore', { name, type });
  if (!current()) return;
  const categories = center.categories;
  const pages = new Map(categories.map((c) => [c.category, { children: [], total: c.count, offset: 0 }]));
  let graph;

  const nodes = () => {
    const list = [{ key: 'center', label: center.center.name, type, kind: 'center', id: center.center.id }];
    for (const category of categories) {
      const page = pages.get(category.category);
      list.push({ key: `category:${category.category}`, label: `${category.name} (${number(page.total)})`, type: 'category', kind: 'category', parent: 'center', category: category.category });
      for (const child of page.children) {
        list.push({ key: `${category.category}:${child.type}:${child.id}`, label: child.name, type: child.type, kind: 'child', parent: `category:${category.category}`, id: child.id, data: child });
      }
      if (page.children.length < page.total) {
        list.push({ key: `more:${category.category}`, label: `more… (${number(page.total - page.children.length)})`, type: 'more', kind: 'more', parent: `category:${category.category}`, category: category.category });
      }
    }
    return list;
  };

  async function more(category) {
    const page = pages.get(category);
    const answer = await api('/api/expand', {
      node_id: name, type, category, limit: PAGE, offset: page.children.length, before_year: before,
    });
    page.children.push(...answer.children);
    page.total = answer.total;
  }

  status.textContent = `Loading ${categories.length} categories…`;
  await Promise.all(categories.filter((c) => c.count > 0).map((c) => more(c.category)));
  if (!current()) return;
  // The panel follows the selection without redrawing the graph; the URL remembers it.
  const select = (reference) => {
    history.replaceState(null, '', href({ ...params(), node: reference }));
    if (reference) showPanel(panel, reference, select);
    else panel.hidden = true;
  };
  graph = new Graph(canvas, {
    onSelect: (node) => {
      if (node.kind === 'child') select(`${node.type}:${node.id}`);
      else if (node.kind === 'center') select(`${type}:${center.center.id}`);
    },
    onRecenter: (node) => {
      if (node.kind === 'child' && EXPLORABLE.includes(node.type)) go(explore(node.type, node.label));
    },
    onMore: async (node) => {
      status.hidden = false;
      status.textContent = 'Loading the next page…';
      try {
        await more(node.category);
        graph.set(nodes());
        status.hidden = true;
      } catch (error) {
        put(status, failure('the next page', error));
      }
    },
  });
  graph.set(nodes());
  setTimeout(() => graph.fit(), 600);
  const shown = categories.reduce((sum, c) => sum + pages.get(c.category).children.length, 0);
  status.textContent = shown === 0 ? `Nothing is linked to ${name}${before ? ` before ${before}` : ''}.` : '';
  status.hidden = shown > 0;
  status.className = 'state empty';

  put(tools, beforeYear(query), TRENDING.includes(type) ? link({ view: 'trends', type, name }, 'Trends') : null, legend());
  if (query.node) showPanel(panel, query.node, select);
}

/** The "before year" slider: expansions count only releases before the chosen year. */
function beforeYear(query) {
  const wrap = h('label', { class: 'before' }, 'Before ');
  const output = h('output', {}, query.before ?? 'any year');
  const slider = h('input', { type: 'range', min: 1900, max: new Date().getFullYear() + 1, step: 1, value: query.before ?? new Date().getFullYear() + 1, 'aria-label': 'before year' });
  api('/api/explore/year-range').then((range) => {
    if (range.min_year) slider.min = range.min_year + 1;
    if (range.max_year) slider.max = range.max_year + 1;
    if (!query.before) slider.value = slider.max;
  }).catch(() => {});
  slider.addEventListener('input', () => { output.textContent = slider.value === slider.max ? 'any year' : slider.value; });
  slider.addEventListener('change', () => {
    const before = slider.value === slider.max ? undefined : slider.value;
    go({ ...query, before, node: undefined }, { replace: true });
  });
  wrap.append(slider, output);
  return wrap;
}

// ------------------------------------------------------------------------------ the node panel

/** Shows node `reference` (`type:id`) in `panel`; `select(undefined)` closes it. */
async function showPanel(panel, reference, select) {
  panel.hidden = false;
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'close the panel', onclick: () => select(undefined) }, '×');
  const parts = split(reference);
  if (!parts) return put(panel, close, nothing(`No node “${reference}”.`));
  const { type, name: id } = parts;
  put(panel, close, loading('the details'));
  // Only the last node asked for is shown, whichever answer comes first.
  panel.dataset.showing = reference;
  try {
    const [node, record] = await Promise.all([
      api(`/api/node/${encodeURIComponent(id)}`, { type }).then((answer) => answer.node ?? answer),
      RECORD_TYPES.includes(type) ? api(`/api/${type}s/${encodeURIComponent(id)}`).catch(() => null) : null,
    ]);
    if (panel.dataset.showing === reference) put(panel, close, ...details(type, node, record));
  } catch (error) {
    if (panel.dataset.showing === reference) put(panel, close, failure('the details', error));
  }
}

function details(type, node, record) {
  const out = [h('h2', {}, h('span', { class: `badge ${type}` }, type), ' ', node.name)];
  const actions = h('p', { class: 'actions' });
  if (EXPLORABLE.includes(type)) actions.append(link(explore(type, node.name), 'Centre here'), ' ');
  if (TRENDING.includes(type)) actions.append(link({ view: 'trends', type, name: node.name }, 'Trends'), ' ');
  if (RECORD_TYPES.includes(type)) {
    actions.append(h('a', { href: `https://www.discogs.com/${type}/${node.id}`, rel: 'noopener', target: '_blank' }, 'On discogs.com ↗'));
  }
  out.push(actions);
  const facts = h('dl', { class: 'facts' });
  const fact = (label, value) => {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) return;
    facts.append(h('dt', {}, label), h('dd', {}, value));
  };
  const names = (list, as) => list.map((name, i) => [i ? ', ' : '', as ? link(explore(as, name), name) : name]);
  fact('Releases', node.release_count !== undefined ? h('span', { class: 'release-count' }, number(node.release_count)) : null);
  fact('Artists', node.artist_count !== undefined ? number(node.artist_count) : null);
  fact('Labels', node.label_count !== undefined ? number(node.label_count) : null);
  fact('Year', node.year ?? node.first_year);
  fact('Country', node.country);
  fact('Formats', node.formats?.join(', '));
  fact('Master', node.master ? node.master.name : null);
  fact('By', node.artists && names(node.artists, 'artist'));
  fact('On', node.labels && names(node.labels, 'label'));
  fact('Genres', node.genres && names(node.genres, 'genre'));
  fact('Styles', node.styles && names(node.styles, 'style'));
  fact('Members', node.members && names(node.members, 'artist'));
  fact('Groups', node.groups && names(node.groups, 'artist'));
  fact('Aliases', node.aliases && names(node.aliases, 'artist'));
  fact('Parent label', node.parent_label ? link(explore('label', node.parent_label.name), node.parent_label.name) : null);
  fact('Sublabels', node.sublabels && names(node.sublabels.map((l) => l.name), 'label'));
  out.push(facts);
  if (record) out.push(recordDetails(type, record));
  return out;
}

function recordDetails(type, record) {
  const section = h('section', { class: 'record', 'aria-label': 'record' }, h('h3', {}, 'Record'));
  const text = (label, value) => value && section.append(h('h4', {}, label), h('p', { class: 'prose' }, value));
  text('Real name', record.realname);
  text('Profile', record.profile);
  text('Contact', record.contactinfo);
  text('Released', record.released);
  text('Notes', record.notes);
  if (record.urls?.length) {
    section.append(h('h4', {}, 'Links'), h('ul', {}, record.urls.map((url) =>
      h('li', {}, /^https?:\/\//.test(url) ? h('a', { href: url, rel: 'noopener nofollow', target: '_blank' }, url) : url))));
  }
  if (record.tracklist?.length) {
    const rows = [];
    const add = (track, depth) => {
      rows.push(h('tr', {}, h('td', {}, track.position ?? ''), h('td', { class: depth ? 'sub' : null }, track.title ?? ''), h('td', {}, track.duration ?? '')));
      (track.sub_tracks ?? []).forEach((sub) => add(sub, depth + 1));
    };
    record.tracklist.forEach((track) => add(track, 0));
    section.append(h('h4', {}, 'Tracklist'), h('table', { class: 'tracklist' }, h('tbody', {}, rows)));
  }
  const credits = record.extraartists ?? [];
  if (credits.length) {
    section.append(h('h4', {}, 'Credits'), h('ul', { class: 'credits' }, credits.map((credit) =>
      h('li', {}, credit.role ? `${credit.role}: ` : '', credit.name ? link(explore('artist', credit.name), credit.name) : '?',
        credit.tracks ? ` (${credit.tracks})` : ''))));
  }
  section.append(h('details', {}, h('summary', {}, `Full ${type} record (JSON)`), h('pre', {}, JSON.stringify(record, null, 2))));
  return section;
}

// ------------------------------------------------------------------------------ trends

async function trendsView(query, current) {
  const { type, name } = query;
  if (!TRENDING.includes(type) || !name) return put(main, nothing('Trends need an artist, label, genre or style.'));
  document.title = `${name}: trends · Discogs explorer`;
  put(main, loading(`the trends of ${name}`));
  const trend = await api('/api/trends', { name, type });
  if (!current()) return;
  put(main, h('section', { class: 'trends-view' },
    h('h1', {}, h('span', { class: `badge ${type}` }, type), ' ', name),
    h('p', {}, link(explore(type, name), `Explore ${name}`)),
    trend.data.length ? trendsChart(trend.data, `Releases per year: ${name}`) : nothing(`No release of ${name} has a known year.`)));
}

// ------------------------------------------------------------------------------ search

async function searchView(query, current) {
  document.title = query.q ? `“${query.q}” · Discogs explorer` : 'Search · Discogs explorer';
  const input = h('input', { type: 'search', name: 'q', value: query.q ?? '', placeholder: 'Words in names and titles', 'aria-label': 'search words' });
  const form = h('form', { class: 'search-form', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    go({ view: 'search', q: input.value.trim() });
  } }, input, h('button', { type: 'submit' }, 'Search'));
  const results = h('div', { class: 'results' });
  put(main, h('section', { class: 'search' }, h('h1', {}, 'Search'), form, results));
  if (!query.q) return put(results, nothing('Type some words and press Enter.'));
  put(results, loading('the results'));
  const offset = Number(query.offset ?? 0);
  const decade = query.decade ? Number(query.decade) : null;
  const answer = await api('/api/search', {
    q: query.q, types: query.types, genres: query.genres, limit: SEARCH_PAGE, offset,
    year_min: decade, year_max: decade ? decade + 9 : null,
  });
  if (!current()) return;
  const facet = (key, value, label) => {
    const on = query[key] === String(value);
    return h('li', { class: on ? 'on' : null }, link({ ...query, [key]: on ? undefined : value, offset: undefined },
      on ? h('strong', {}, label, ' ✕') : label));
  };
  const facets = h('div', { class: 'facets' },
    h('h2', {}, 'Type'), h('ul', {}, Object.entries(answer.facets.type ?? {}).map(([type, n]) => facet('types', type, `${type} (${number(n)})`))),
    h('h2', {}, 'Genre'), h('ul', {}, Object.entries(answer.facets.genre ?? {}).map(([genre, n]) => facet('genres', genre, `${genre} (${number(n)})`))),
    h('h2', {}, 'Decade'), h('ul', {}, Object.entries(answer.facets.decade ?? {}).map(([d, n]) => facet('decade', parseInt(d, 10), `${d} (${number(n)})`))));
  const list = answer.results.length
    ? h('ol', { class: 'hits', start: offset + 1 }, answer.results.map((hit) => h('li', {},
      h('span', { class: `badge ${hit.type}` }, hit.type), ' ',
      EXPLORABLE.includes(hit.type) ? link(explore(hit.type, hit.name), headline(hit.highlight ?? hit.name)) : h('span', {}, headline(hit.highlight ?? hit.name)),
      hit.metadata?.year ? ` (${hit.metadata.year})` : '',
      RECORD_TYPES.includes(hit.type) ? [' ', h('a', { href: `https://www.discogs.com/${hit.type}/${hit.id}`, rel: 'noopener', target: '_blank', class: 'out' }, '↗')] : null)))
    : nothing(`Nothing matches “${query.q}” with these filters.`);
  const pages = h('p', { class: 'pages' },
    `${number(answer.total)} results. `,
    offset > 0 ? link({ ...query, offset: Math.max(0, offset - SEARCH_PAGE) || undefined }, '← previous') : null, ' ',
    offset + answer.results.length < answer.total ? link({ ...query, offset: offset + SEARCH_PAGE }, 'next →') : null);
  put(results, facets, h('div', {}, pages, list));
}

// ------------------------------------------------------------------------------ path

async function pathView(query, current) {
  document.title = 'Path · Discogs explorer';
  const picked = { from: split(query.from), to: split(query.to) };
  const field = (which, label) => {
    const input = h('input', { type: 'text', value: picked[which]?.name ?? '', placeholder: 'artist, label, genre or style', 'aria-label': label, name: which });
    const wrap = h('div', { class: 'field' }, h('span', {}, label), input);
    autocomplete(input, (item) => { picked[which] = { type: item.type, name: item.name }; });
    return wrap;
  };
  const hubs = h('input', { type: 'checkbox', name: 'exclude_hubs', checked: query.exclude_hubs === 'true' });
  const form = h('form', { class: 'path-form', onsubmit: (event) => {
    event.preventDefault();
    if (!picked.from || !picked.to) return;
    go({ view: 'path', from: `${picked.from.type}:${picked.from.name}`, to: `${picked.to.type}:${picked.to.name}`, exclude_hubs: hubs.checked ? 'true' : undefined });
  } }, field('from', 'From'), field('to', 'To'), h('label', {}, hubs, ' not through genres and styles'), h('button', { type: 'submit' }, 'Find the path'));
  const result = h('div', { class: 'path-result' });
  put(main, h('section', { class: 'path' }, h('h1', {}, 'Path finder'), form, result));
  if (!picked.from || !picked.to) return put(result, nothing('Pick two entities from the suggestions.'));
  put(result, loading('the path'));
  const answer = await api('/api/path', {
    from_name: picked.from.name, from_type: picked.from.type, to_name: picked.to.name, to_type: picked.to.type,
    exclude_hubs: query.exclude_hubs,
  });
  if (!current()) return;
  if (!answer.found) return put(result, nothing(`No path between ${picked.from.name} and ${picked.to.name} within the depth searched.`));
  put(result, h('p', {}, `${answer.length} step${answer.length === 1 ? '' : 's'}:`),
    h('ol', { class: 'chain' }, answer.path.map((step, i) => h('li', { class: 'step' },
      i > 0 && step.rel ? h('span', { class: 'rel' }, step.rel) : null,
      h('span', { class: `badge ${step.type}` }, step.type), ' ',
      EXPLORABLE.includes(step.type) ? link(explore(step.type, step.name), step.name) : step.name))));
}

/** `type:name` in the URL (`artist:John Tejada`, or a node's `artist:123`) as {type, name}, or null. */
function split(reference) {
  if (!reference) return null;
  const at = reference.indexOf(':');
  return at > 0 ? { type: reference.slice(0, at), name: reference.slice(at + 1) } : null;
}

// ------------------------------------------------------------------------------ genre tree

async function treeView(query, current) {
  document.title = 'Genres · Discogs explorer';
  put(main, loading('the genres'));
  const tree = await api('/api/genre-tree');
  if (!current()) return;
  put(main, h('section', { class: 'tree' }, h('h1', {}, 'Genres and styles'),
    tree.genres.length ? h('ul', { class: 'genres' }, tree.genres.map((genre) => h('li', {},
      h('details', { open: tree.genres.length <= 3 },
        h('summary', {}, link(explore('genre', genre.name), genre.name), ` ${number(genre.release_count)} releases`),
        h('ul', { class: 'styles' }, genre.styles.map((style) => h('li', {},
          link(explore('style', style.name), style.name), ` ${number(style.release_count)}`))))))) : nothing('No genres yet: run an ingest.')));
}

// ------------------------------------------------------------------------------ start

autocomplete(document.getElementById('find'), (item) => go(explore(item.type, item.name)));
render();
