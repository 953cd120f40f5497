// The results page: the live tally (Server-Sent Events), ballots counted and anchored, every window
// with its root looked up on the chain, and how to verify all of it independently.
import {
  ApiError, getElection, getResults, getWindows, resultsStreamUrl, type ElectionInfo, type Results, type WindowInfo,
} from './api.js';
import { ChainError, ChainReader } from './chain.js';
import { $, h, hexCode, replace } from './dom.js';
import { formatNumber, initI18n, onLanguageChange, t, type Key } from './i18n.js';
import { ID_PATTERN } from './protocol.js';

const RPC_STORAGE = 'tallyproof.rpcUrl';

let election: ElectionInfo | null = null;
let results: Results | null = null;
let windows: WindowInfo[] = [];
let live = false;
/** Chain lookups by window index: the root read from the chain, or why it could not be read. */
const chainRoots = new Map<number, { root: string } | { missing: true } | { error: string }>();

function electionIdFromUrl(): string | null {
  const m = /^\/results\/([^/]+)\/?$/.exec(location.pathname);
  if (m) return decodeURIComponent(m[1]!);
  return new URLSearchParams(location.search).get('election');
}

// ---------------------------------------------------------------------------------------------
// tally

function renderLive(): void {
  const el = $('#live');
  el.textContent = live ? t('results.live') : t('results.reconnecting');
  el.classList.toggle('off', !live);
}

/** Build the contest blocks (once per election and language); updateTally fills the numbers. */
function renderContests(): void {
  if (!election) return;
  replace($('#contests'), ...election.manifest.contests.map((c) =>
    h('section', { class: 'card', 'aria-labelledby': `h-${c.id}` },
      h('h2', { id: `h-${c.id}` }, c.title),
      c.maxSelections > 1 ? h('p', { class: 'help' }, t('results.rule', { max: c.maxSelections })) : null,
      h('ol', { class: 'bars' }, ...c.choices.map((k) =>
        h('li', { 'data-choice': `${c.id}/${k.id}` },
          h('div', { class: 'bar-label' }, h('span', { class: 'name' }, k.label), h('span', { class: 'count' })),
          h('div', { class: 'bar', 'aria-hidden': 'true' }, h('span')),
        ))),
    )));
  updateTally();
}

function updateTally(): void {
  if (!election || !results) return;
  $('#total').textContent = formatNumber(results.totalBallots);
  $('#anchored').textContent = formatNumber(results.anchoredBallots);
  $('#as-of').textContent = results.asOfSeq >= 0 ? t('results.asOf', { seq: results.asOfSeq }) : t('results.none');
  const total = results.totalBallots;
  for (const c of election.manifest.contests) {
    for (const k of c.choices) {
      const li = document.querySelector<HTMLElement>(`[data-choice="${c.id}/${k.id}"]`);
      if (!li) continue;
      const n = results.tally[c.id]?.[k.id] ?? 0;
      const pct = total > 0 ? (100 * n) / total : 0;
      const votes = n === 1 ? t('results.vote1') : t('results.votes', { n: formatNumber(n) });
      $('.count', li).textContent = `${votes} · ${t('results.percentOf', { percent: formatNumber(pct, 1) })}`;
      $<HTMLElement>('.bar > span', li).style.width = `${Math.min(100, pct)}%`;
      li.dataset.count = String(n);
    }
  }
}

let stream: EventSource | null = null;

function connectStream(id: string): void {
  stream?.close();
  stream = new EventSource(resultsStreamUrl(id));
  const onData = (ev: MessageEvent<string>) => {
    try {
      const r = JSON.parse(ev.data) as Results;
      if (typeof r?.totalBallots !== 'number' || typeof r.tally !== 'object') return;
      applyResults(r);
    } catch {
      // not a results event (comment or keep-alive)
    }
    if (!live) {
      live = true;
      renderLive();
    }
  };
  stream.onmessage = onData;
  stream.addEventListener('results', onData as EventListener);
  stream.onopen = () => {
    live = true;
    renderLive();
  };
  stream.onerror = () => {
    // EventSource reconnects by itself (the server's retry: field, else a few seconds).
    live = false;
    renderLive();
  };
}

function applyResults(r: Results): void {
  const before = results;
  // Late events from a reconnect can be older than what is shown: keep the newest.
  if (before && r.asOfSeq < before.asOfSeq && r.anchoredBallots <= before.anchoredBallots) return;
  results = r;
  updateTally();
  if (!before || before.anchoredBallots !== r.anchoredBallots || before.totalBallots !== r.totalBallots) scheduleWindows();
}

// ---------------------------------------------------------------------------------------------
// windows and their chain lookups

/** Windows shown (and looked up on chain), newest first; the verifier CLI covers all of them. */
const MAX_WINDOWS_SHOWN = 100;
const rpcInput = $<HTMLInputElement>('#rpc-url');
const contractInput = $<HTMLInputElement>('#contract-address');
let windowsTimer: number | undefined;

function scheduleWindows(): void {
  clearTimeout(windowsTimer);
  windowsTimer = window.setTimeout(() => void refreshWindows(), 300);
}

async function refreshWindows(): Promise<void> {
  if (!election) return;
  try {
    windows = await getWindows(election.manifest.electionId);
  } catch {
    return;
  }
  renderWindows();
  await lookUpOnChain();
}

let reader: ChainReader | null = null;
let readerKey = '';

async function lookUpOnChain(): Promise<void> {
  if (!election) return;
  const rpcUrl = rpcInput.value.trim();
  const contract = contractInput.value.trim();
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

function renderWindows(): void {
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
  replace(list, ...shown.map((w) =>
    h('li', { 'data-window': String(w.index) },
      h('h3', {}, t('results.window', { index: w.index })),
      h('dl', { class: 'kv' },
        h('dt', {}, t('results.seqs')), h('dd', {}, t('results.range', { first: w.firstSeq, last: w.firstSeq + w.count - 1, count: w.count })),
        h('dt', {}, t('results.root')), h('dd', {}, hexCode(w.root)),
        h('dt', {}, t('results.tx')), h('dd', {}, w.anchor ? hexCode(w.anchor.txHash) : '—'),
        h('dt', {}, t('results.block')), h('dd', {}, w.anchor?.blockNumber == null ? '—' : String(w.anchor.blockNumber)),
        h('dt', {}, t('results.onChain')), h('dd', { class: 'on-chain' }, chainCell(w)),
      ),
    )));
}

function onChainSettingsChange(): void {
  try {
    localStorage.setItem(RPC_STORAGE, rpcInput.value.trim());
  } catch {
    // not kept
  }
  chainRoots.clear();
  renderWindows();
  renderVerifyCommand();
  void lookUpOnChain();
}
rpcInput.addEventListener('change', onChainSettingsChange);
contractInput.addEventListener('change', onChainSettingsChange);

// ---------------------------------------------------------------------------------------------
// independent verification

function renderVerifyCommand(): void {
  if (!election) return;
  const id = election.manifest.electionId;
  const rpc = rpcInput.value.trim() || '<chain JSON-RPC URL>';
  const contract = contractInput.value.trim() || '<contract address>';
  $('#verify-cmd').textContent = [
    `npx tallyproof-verify audit --api ${location.origin} --election ${id} \\`,
    `  --rpc ${rpc} --contract ${contract}`,
    `npx tallyproof-verify roots --election ${id} --rpc ${rpc} --contract ${contract}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// start

function renderAll(): void {
  if (!election) return;
  $('#title').textContent = election.manifest.title;
  document.title = `Tallyproof — ${election.manifest.title}`;
  replace($('#status-badge'), h('span', { class: `badge ${election.status}` }, t(`election.status.${election.status}` as Key)));
  renderLive();
  renderContests();
  renderWindows();
  renderVerifyCommand();
}

async function load(id: string): Promise<void> {
  const pickError = $('#pick-error');
  if (!ID_PATTERN.test(id)) {
    pickError.textContent = t('election.invalidId');
    pickError.hidden = false;
    $('#pick-form').hidden = false;
    return;
  }
  try {
    election = await getElection(id);
  } catch (err) {
    $('#title').textContent = t('results.title');
    pickError.textContent = err instanceof ApiError && err.status === 404 ? t('results.unknown', { id }) : (err as Error).message;
    pickError.hidden = false;
    $('#pick-form').hidden = false;
    return;
  }
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(RPC_STORAGE);
  } catch {
    saved = null;
  }
  rpcInput.value = election.chainRpcUrl ?? saved ?? '';
  contractInput.value = election.contract ?? '';
  $<HTMLAnchorElement>('#nav-vote').href = `/?election=${encodeURIComponent(id)}`;
  $<HTMLAnchorElement>('#nav-check').href = `/?election=${encodeURIComponent(id)}#check`;
  $('#pick-form').hidden = true;
  $('#results').hidden = false;
  try {
    results = await getResults(id);
  } catch {
    results = null;
  }
  renderAll();
  connectStream(id);
  await refreshWindows();
}

initI18n();
onLanguageChange(renderAll);
$<HTMLFormElement>('#pick-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = $<HTMLInputElement>('#pick-id').value.trim();
  if (ID_PATTERN.test(id)) location.assign(`/results/${encodeURIComponent(id)}`);
  else void load(id);
});

const initial = electionIdFromUrl();
if (initial) {
  void load(initial);
} else {
  $('#title').textContent = t('results.title');
  $('#pick-form').hidden = false;
}
