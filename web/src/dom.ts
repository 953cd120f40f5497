// Small DOM helpers: no framework, text always set as text (never as HTML).

export function $<T extends HTMLElement = HTMLElement>(selector: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(selector);
  if (el === null) throw new Error(`missing element ${selector}`);
  return el;
}

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

/** h('p', {class: 'x'}, 'text', child): an element; `on…` attributes become listeners, false/null are skipped. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Node, ...children: Child[]): void {
  clear(el);
  append(el, ...children);
}

/** Show a step and move the focus to its heading (tabindex="-1"), for keyboard and screen-reader users. */
export function reveal(section: HTMLElement, focus = true): void {
  section.hidden = false;
  if (!focus) return;
  const heading = section.querySelector<HTMLElement>('h2, h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

/** A <code> for a long hex value that wraps anywhere. */
export function hexCode(value: string, attrs: Attrs = {}): HTMLElement {
  return h('code', { class: 'hex', ...attrs }, value);
}

/** Hashes, ids and proofs behind a native <details> (keyboard-operable as is): the plain words stay in front. */
export function moreDetails(summary: string, ...children: Child[]): HTMLDetailsElement {
  return h('details', { class: 'more' }, h('summary', {}, summary), ...children);
}

/** `0x1234…abcd`-style short form, for tight spots; the full value stays in the accessible name. */
export function short(value: string, head = 10, tail = 8): string {
  return value.length <= head + tail + 1 ? value : `${value.slice(0, head)}…${value.slice(-tail)}`;
}

/** Offer `data` as a file download. */
export function download(filename: string, data: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h('a', { href: url, download: filename });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
