// Every window (newest first) with its root looked up on the chain: the chain's root compared with the
// server's, or why it could not be read. A sharded election (docs/protocol.md 13.4) is anchored by intervals,
// not windows: its intervals are listed instead, each one's root recomputed from its window records and
// compared, with its counts, with the chain's (the check is intervals.ts; this file shows it).
import { getIntervals, getWindows, type IntervalInfo, type WindowInfo } from '../api.js';
import { ChainError, ChainReader } from '../chain.js';
import { $, h, hexCode, moreDetails, replace } from '../dom.js';
import { t, type Key } from '../i18n.js';
import { shardCountOf } from '../protocol.js';
import { typedContract, typedRpcUrl } from './chain-settings.js';
import { judgeInterval, readInterval, type ChainReading } from './intervals.js';
import { state } from './state.js';

/** Windows shown (and looked up on chain), newest first; the verifier CLI covers all of them. */
const MAX_WINDOWS_SHOWN = 100;

let windows: WindowInfo[] = [];
/** Chain lookups by window index: the root read from the chain, or why it could not be read. */
const chainRoots = new Map<number, { root: string } | { missing: true } | { error: string }>();
let windowsTimer: number | undefined;

/** Intervals shown (and checked against the chain), newest first; the verifier CLI covers all of them. */
const MAX_INTERVALS_SHOWN = 100;
/** Window records listed in an interval's details (an interval has up to one per shard, 1,024). */
const MAX_RECORDS_SHOWN = 32;

let intervals: IntervalInfo[] = [];
/**
 * getInterval readings by interval index. One that found the interval is kept (the contract never changes an
 * interval); any other (not on chain yet, not read) is read again at the next refresh.
 */
const intervalReadings = new Map<number, ChainReading>();

/** The election is split into shards, so anchored by intervals: `shards` > 1 in its manifest. */
function shardCount(): number {
  const e = state.election;
  // Either version of the manifest may name shards (13.1); ManifestV2's type does not list it.
  return e ? (shardCountOf(e.manifest as { shards?: number }) ?? 1) : 1;
}

/** Refresh the windows shortly (results events come in bursts). */
export function scheduleWindows(): void {
  clearTimeout(windowsTimer);
  windowsTimer = window.setTimeout(() => void refreshWindows(), 300);
}

export async function refreshWindows(): Promise<void> {
  if (!state.election) return;
  if (shardCount() > 1) {
    await refreshIntervals();
    return;
  }
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

/** The reader for this RPC URL and contract, connected once (again when either changes). */
async function connectedReader(rpcUrl: string, contract: string, chainId: number | null): Promise<ChainReader> {
  const key = `${rpcUrl}|${contract}`;
  if (!reader || readerKey !== key) {
    reader?.destroy();
    reader = null;
    reader = await ChainReader.connect(rpcUrl, contract, chainId);
    readerKey = key;
  }
  return reader;
}

export async function lookUpOnChain(): Promise<void> {
  const election = state.election;
  if (!election) return;
  if (shardCount() > 1) {
    await lookUpIntervalsOnChain();
    return;
  }
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
  let chainReader: ChainReader;
  try {
    chainReader = await connectedReader(rpcUrl, contract, election.chainId);
  } catch (err) {
    for (const w of todo) chainRoots.set(w.index, { error: (err as Error).message });
    renderWindows();
    for (const w of todo) chainRoots.delete(w.index);
    return;
  }
  for (const w of todo) {
    try {
      const cw = await chainReader.getWindow(election.manifest.electionId, w.index);
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
  intervalReadings.clear();
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
  if (shardCount() > 1) {
    renderIntervals();
    return;
  }
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

// ---------------------------------------------------------------------------------------------
// A sharded election's anchor intervals

async function refreshIntervals(): Promise<void> {
  try {
    intervals = await getIntervals(state.election!.manifest.electionId);
  } catch {
    return;
  }
  renderIntervals();
  await lookUpIntervalsOnChain();
}

function shownIntervals(): IntervalInfo[] {
  return intervals.slice(-MAX_INTERVALS_SHOWN).reverse();
}

/** Reads getInterval for every shown interval not yet found on chain (an unanchored one too: it may be mined). */
async function lookUpIntervalsOnChain(): Promise<void> {
  const election = state.election;
  if (!election) return;
  const todo = shownIntervals().filter((i) => !('interval' in (intervalReadings.get(i.index) ?? {})));
  if (todo.length === 0) return;
  const rpcUrl = typedRpcUrl();
  const contract = typedContract();
  if (!rpcUrl || !contract) {
    const error = t(!rpcUrl ? 'check.fail.noRpc' : 'check.fail.noContract');
    for (const i of todo) intervalReadings.set(i.index, { error });
    renderIntervals();
    return;
  }
  let chainReader: ChainReader;
  try {
    chainReader = await connectedReader(rpcUrl, contract, election.chainId);
  } catch (err) {
    for (const i of todo) intervalReadings.set(i.index, { error: (err as Error).message });
    renderIntervals();
    return;
  }
  for (const i of todo)
    intervalReadings.set(i.index, await readInterval(chainReader, election.manifest.electionId, i.index));
  renderIntervals();
}

/** The section's heading and introduction name intervals (kept by data-i18n across a language change). */
function nameIntervalsSection(): void {
  const heading = $('#h-windows');
  heading.dataset.i18n = 'results.intervals';
  heading.textContent = t('results.intervals');
  const intro = $('#windows-section').querySelector<HTMLElement>('[data-i18n="results.windowsIntro"]');
  if (intro) {
    intro.dataset.i18n = 'results.intervalsIntro';
    intro.textContent = t('results.intervalsIntro');
  }
}

function intervalCell(i: IntervalInfo): { cell: Node; failed: boolean } {
  const check = judgeInterval(i, shardCount(), intervalReadings.get(i.index));
  switch (check.state) {
    case 'verified':
      return { cell: h('span', { class: 'chain-ok' }, t('results.interval.verified')), failed: false };
    case 'pending':
      return { cell: h('span', { class: 'muted' }, t('results.interval.pending')), failed: false };
    case 'unchecked':
      return { cell: h('span', { class: 'muted' }, t('common.working')), failed: false };
    case 'unread':
      return {
        cell: h('span', { class: 'muted' }, t('results.chainUnread', { message: check.message })),
        failed: false,
      };
    case 'failed':
      return { cell: h('span', { class: 'chain-bad' }, t(check.reason as Key, check.params)), failed: true };
  }
}

function recordList(i: IntervalInfo): Node {
  const records = Array.isArray(i.windows) ? i.windows : [];
  const shown = records.slice(0, MAX_RECORDS_SHOWN);
  return h(
    'ul',
    { class: 'records' },
    ...shown.map((r) =>
      h(
        'li',
        {},
        t('results.intervalRecord', {
          shard: r.shard,
          window: r.windowIndex,
          first: r.firstSeq,
          last: r.firstSeq + r.count - 1,
          count: r.count,
        }),
        ' ',
        hexCode(String(r.root)),
      ),
    ),
    records.length > shown.length
      ? h('li', { class: 'muted' }, t('results.intervalRecordsMore', { more: records.length - shown.length }))
      : null,
  );
}

function renderIntervals(): void {
  nameIntervalsSection();
  const list = $('#windows');
  if (intervals.length === 0) {
    replace(list, h('li', { class: 'muted' }, t('results.noIntervals')));
    return;
  }
  const shown = shownIntervals();
  const note = $('#windows-note');
  note.hidden = shown.length === intervals.length;
  note.textContent = t('results.intervalsShown', { shown: shown.length, total: intervals.length });
  replace(
    list,
    ...shown.map((i) => {
      const { cell, failed } = intervalCell(i);
      // The root, the records and the transaction are for auditors: behind "Details", open when the check failed.
      const details = moreDetails(
        t('common.details'),
        h(
          'dl',
          { class: 'kv' },
          h('dt', {}, t('results.root')),
          h('dd', {}, hexCode(i.root)),
          h('dt', {}, t('results.intervalRecords')),
          h('dd', {}, recordList(i)),
          h('dt', {}, t('results.tx')),
          h('dd', {}, i.anchor ? hexCode(i.anchor.txHash) : '—'),
          h('dt', {}, t('results.block')),
          h('dd', {}, i.anchor?.blockNumber == null ? '—' : String(i.anchor.blockNumber)),
        ),
      );
      details.open = failed;
      return h(
        'li',
        { 'data-interval': String(i.index) },
        h('h3', {}, t('results.interval', { index: i.index })),
        h(
          'dl',
          { class: 'kv' },
          h('dt', {}, t('results.seqs')),
          h('dd', {}, t('results.intervalBallots', { ballots: i.ballotCount, windows: i.windowCount })),
          h('dt', {}, t('results.onChain')),
          h('dd', { class: 'on-chain' }, cell),
        ),
        details,
      );
    }),
  );
}
