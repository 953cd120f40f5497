// Every window (newest first) with its root looked up on the chain: the chain's root compared with the
// server's, or why it could not be read.
import { getWindows, type WindowInfo } from '../api.js';
import { ChainError, ChainReader } from '../chain.js';
import { $, h, hexCode, moreDetails, replace } from '../dom.js';
import { t } from '../i18n.js';
import { typedContract, typedRpcUrl } from './chain-settings.js';
import { state } from './state.js';

/** Windows shown (and looked up on chain), newest first; the verifier CLI covers all of them. */
const MAX_WINDOWS_SHOWN = 100;

let windows: WindowInfo[] = [];
/** Chain lookups by window index: the root read from the chain, or why it could not be read. */
const chainRoots = new Map<number, { root: string } | { missing: true } | { error: string }>();
let windowsTimer: number | undefined;

/** Refresh the windows shortly (results events come in bursts). */
export function scheduleWindows(): void {
  clearTimeout(windowsTimer);
  windowsTimer = window.setTimeout(() => void refreshWindows(), 300);
}

export async function refreshWindows(): Promise<void> {
  if (!state.election) return;
  try {
    windows = await getWindows(state.election.manifest.electionId);
  } catch {
    return;
  }
  renderWindows();
  await lookUpOnChain();
}

let reader: ChainReader | null = null;
let readerKey = '';

export async function lookUpOnChain(): Promise<void> {
  const election = state.election;
  if (!election) return;
  const rpcUrl = typedRpcUrl();
  const contract = typedContract();
  const todo = shownWindows().filter((w) => w.anchor && !chainRoots.has(w.index));
  if (todo.length === 0) return;
  if (!rpcUrl || !contract) {
    for (const w of todo) chainRoots.set(w.index, { error: t(!rpcUrl ? 'check.fail.noRpc' : 'check.fail.noContract') });
    renderWindows();
    for (const w of todo) chainRoots.delete(w.index); // try again once a URL is given
    return;
  }
  const key = `${rpcUrl}|${contract}`;
  try {
    if (!reader || readerKey !== key) {
      reader?.destroy();
      reader = await ChainReader.connect(rpcUrl, contract, election.chainId);
      readerKey = key;
    }
  } catch (err) {
    for (const w of todo) chainRoots.set(w.index, { error: (err as Error).message });
    renderWindows();
    for (const w of todo) chainRoots.delete(w.index);
    return;
  }
  for (const w of todo) {
    try {
      const cw = await reader.getWindow(election.manifest.electionId, w.index);
      chainRoots.set(w.index, { root: cw.root });
    } catch (err) {
      if (err instanceof ChainError && err.kind === 'no-window') chainRoots.set(w.index, { missing: true });
      else chainRoots.set(w.index, { error: (err as Error).message });
    }
  }
  renderWindows();
}

/** Forget what was read from the chain (its settings changed) and show the windows as unread. */
export function forgetChainRoots(): void {
  chainRoots.clear();
  renderWindows();
}

function shownWindows(): WindowInfo[] {
  return windows.slice(-MAX_WINDOWS_SHOWN).reverse();
}

function chainCell(w: WindowInfo): Node {
  if (!w.anchor) return h('span', { class: 'muted' }, t('results.notAnchored'));
  const c = chainRoots.get(w.index);
  if (!c) return h('span', { class: 'muted' }, t('common.working'));
  if ('root' in c) {
    return c.root === w.root
      ? h('span', { class: 'chain-ok' }, t('results.chainMatch'))
      : h('span', { class: 'chain-bad' }, t('results.chainMismatch', { root: c.root }));
  }
  if ('missing' in c) return h('span', { class: 'chain-bad' }, t('results.chainMissing'));
  return h('span', { class: 'muted' }, t('results.chainUnread', { message: c.error }));
}

export function renderWindows(): void {
  const list = $('#windows');
  if (windows.length === 0) {
    replace(list, h('li', { class: 'muted' }, t('results.noWindows')));
    return;
  }
  // Newest first: the window a voter just waited for is at the top.
  const shown = shownWindows();
  const note = $('#windows-note');
  note.hidden = shown.length === windows.length;
  note.textContent = t('results.windowsShown', { shown: shown.length, total: windows.length });
  replace(
    list,
    ...shown.map((w) =>
      h(
        'li',
        { 'data-window': String(w.index) },
        h('h3', {}, t('results.window', { index: w.index })),
        h(
          'dl',
          { class: 'kv' },
          h('dt', {}, t('results.seqs')),
          h('dd', {}, t('results.range', { first: w.firstSeq, last: w.firstSeq + w.count - 1, count: w.count })),
          h('dt', {}, t('results.onChain')),
          h('dd', { class: 'on-chain' }, chainCell(w)),
        ),
        // The Merkle root and the transaction are for auditors: behind "Details".
        moreDetails(
          t('common.details'),
          h(
            'dl',
            { class: 'kv' },
            h('dt', {}, t('results.root')),
            h('dd', {}, hexCode(w.root)),
            h('dt', {}, t('results.tx')),
            h('dd', {}, w.anchor ? hexCode(w.anchor.txHash) : '—'),
            h('dt', {}, t('results.block')),
            h('dd', {}, w.anchor?.blockNumber == null ? '—' : String(w.anchor.blockNumber)),
          ),
        ),
      ),
    ),
  );
}
