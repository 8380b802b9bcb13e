// Suggestions under a text input, across artists, labels, genres and styles: arrows move, Enter
// picks, Esc closes. `onPick({type, id, name})` receives the choice.

import { api, EXPLORABLE } from './api.js';
import { h, put } from './dom.js';

let lists = 0;

export function autocomplete(input, onPick, types = EXPLORABLE) {
  const list = h('ul', { class: 'suggestions', role: 'listbox', id: `suggestions-${++lists}`, hidden: true });
  input.after(list);
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-expanded', 'false');
  let items = [];
  let active = -1;
  let asked = 0;
  let timer;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const pick = (item) => {
    close();
    input.value = item.name;
    onPick(item);
  };
  const highlight = (index) => {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === index)));
    if (index >= 0) input.setAttribute('aria-activedescendant', `${list.id}-${index}`);
  };
  const show = (children) => {
    put(list, children);
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };

  async function suggest() {
    const q = input.value.trim();
    const mine = ++asked;
    if (q.length < 2) return close();
    const answers = await Promise.allSettled(
      types.map((type) => api('/api/autocomplete', { q, type, limit: 5 })
        .then((answer) => answer.results.map((result) => ({ ...result, type })))));
    if (mine !== asked) return;
    const failed = answers.find((answer) => answer.status === 'rejected');
    items = answers.flatMap((answer) => (answer.status === 'fulfilled' ? answer.value : []))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    if (items.length === 0) {
      show(h('li', { class: failed ? 'error' : 'empty' },
        failed ? `Suggestions failed: ${failed.reason.message}` : `Nothing called “${q}”`));
      return;
    }
    show(items.map((item, index) => h('li', {
      id: `${list.id}-${index}`,
      role: 'option',
      'aria-selected': 'false',
      'data-type': item.type,
      onmousedown: (event) => { event.preventDefault(); pick(item); },
    }, h('span', { class: `badge ${item.type}` }, item.type), ' ', item.name)));
    active = -1;
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 120);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (list.hidden || items.length === 0) return;
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      highlight((active + step + items.length) % items.length);
    } else if (event.key === 'Enter') {
      if (!list.hidden && items.length > 0) {
        event.preventDefault();
        pick(items[Math.max(active, 0)]);
      }
    } else if (event.key === 'Escape') {
      close();
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
}
