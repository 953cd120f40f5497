// "Check my receipt", the page's side: the form (a hash or a receipt file), the result with each step,
// re-checked every 2 s while the ballot is pending or sealed. The checking itself (signature, shard, root
// recomputed from the window's tiles or the server's proof, compared with the chain's window or, in a sharded
// election, interval root) is src/check.ts. With the receipt file in hand, the check goes on when the server
// gives no proof bundle: the tiles and the chain are enough for an anchored ballot of an election of one shard.
import { ApiError, getElection, getProofBundle, type ElectionInfo } from '../api.js';
import { UNREAD_REASONS, checkReceipt, type CheckResult } from '../check.js';
import { $, append, h, hexCode, moreDetails, replace } from '../dom.js';
import { formatDate, t, type Key } from '../i18n.js';
import { isHex, isReceipt, type Manifest, type ProofBundle, type Receipt } from '../protocol.js';
import { fillChainSettings, tilesBase, typedContract, typedRpcUrl } from './chain-settings.js';
import { apiMessage, show, state, statusBadge } from './state.js';

const checkForm = $<HTMLFormElement>('#check-form');
const checkHash = $<HTMLInputElement>('#check-hash');
const checkError = $('#check-hash-error');
const checkResultBox = $('#check-result');
let receiptFile: Receipt | null = null;

async function onReceiptFile(ev: Event): Promise<void> {
  const file = (ev.target as HTMLInputElement).files?.[0];
  receiptFile = null;
  show(checkError, null);
  if (!file) return;
  try {
    const parsed = JSON.parse(await file.text()) as unknown;
    const r = isReceipt(parsed) ? parsed : (parsed as { receipt?: unknown })?.receipt;
    if (!isReceipt(r)) throw new Error('not a receipt');
    receiptFile = r;
    checkHash.value = r.ballotHash;
  } catch {
    show(checkError, t('check.badFile'));
  }
}

function onCheck(ev: SubmitEvent): void {
  ev.preventDefault();
  const hash = checkHash.value.trim().toLowerCase();
  if (!isHex(hash, 32)) {
    checkHash.setAttribute('aria-invalid', 'true');
    show(checkError, t('check.badHash'));
    checkHash.focus();
    return;
  }
  checkHash.removeAttribute('aria-invalid');
  show(checkError, null);
  void runCheck(hash, receiptFile, null, true);
}

/**
 * Called from the receipt step: fill the form and run the check, focusing the result. `credential`: the
 * ballot's credential when the caller knows it (a sharded receipt's shard is then checked against it).
 */
export function startCheck(hash: string, receipt: Receipt, credential: string | null = null): void {
  checkHash.value = hash;
  receiptFile = receipt;
  show(checkError, null);
  void runCheck(hash, receipt, credential, true);
  const heading = $('#h-check');
  heading.tabIndex = -1;
  heading.focus();
}

/** A receipt hash from the page's URL (`?receipt=`): filled in and checked. */
export function checkFromUrl(hash: string): void {
  checkHash.value = hash;
  void runCheck(hash, null, null, true);
}

let checkGeneration = 0;
const electionCache = new Map<string, ElectionInfo>();

async function electionFor(id: string): Promise<ElectionInfo> {
  if (state.election?.manifest.electionId === id) return state.election;
  let e = electionCache.get(id);
  if (!e) {
    e = await getElection(id);
    electionCache.set(id, e);
    if (!state.election) fillChainSettings(e);
  }
  return e;
}

/** Fetch, check, show; while the ballot is pending or sealed, check again every 2 s (for a while). */
async function runCheck(
  hash: string,
  file: Receipt | null,
  credential: string | null,
  first: boolean,
  startedAt = Date.now(),
): Promise<void> {
  const generation = first ? ++checkGeneration : checkGeneration;
  const button = $<HTMLButtonElement>('#check-button');
  if (first) button.disabled = true;
  let result: CheckResult | null = null;
  let message: string | null = null;
  try {
    let bundle: ProofBundle | null = null;
    let bundleError: string | null = null;
    try {
      bundle = await getProofBundle(hash);
    } catch (err) {
      if (!file) throw err;
      bundleError = err instanceof ApiError && err.status === 404 ? t('error.not-found') : apiMessage(err);
    }
    const e = await electionFor((bundle?.receipt ?? file)?.electionId ?? '');
    result = await checkReceipt({
      ballotHash: hash,
      bundle,
      bundleError,
      // The receipt check reads electionId and ledgerKey, the same in a version 2 manifest.
      manifest: e.manifest as Manifest,
      chainId: e.chainId,
      rpcUrl: typedRpcUrl() || null,
      contract: typedContract() || e.contract,
      receiptFile: file,
      credential,
      tilesBase: tilesBase(),
    });
  } catch (err) {
    message = err instanceof ApiError && err.status === 404 ? t('error.not-found') : apiMessage(err);
  } finally {
    if (first) button.disabled = false;
  }
  if (generation !== checkGeneration) return; // another check started meanwhile

  const state0 = result?.outcome.state;
  const waitMs = 2000;
  const windowSeconds = result
    ? ((electionCache.get(result.receipt.electionId) ?? state.election)?.manifest.windowSeconds ?? 60)
    : 60;
  const keepPolling =
    (state0 === 'pending' || state0 === 'sealed') && Date.now() - startedAt < (windowSeconds + 120) * 1000;
  const signature = message ?? `${state0}|${result?.bundle?.status}|${result?.via}|${result?.steps.length}`;
  if (first || checkResultBox.dataset.signature !== signature) {
    state.checkView = () =>
      result
        ? checkView(result, keepPolling, hash, file, credential)
        : h('p', { class: 'notice bad', role: 'alert' }, message ?? '');
    replace(checkResultBox, state.checkView());
    checkResultBox.dataset.signature = signature;
  }
  checkResultBox.dataset.state = state0 ?? 'error';
  if (keepPolling) setTimeout(() => void runCheck(hash, file, credential, false, startedAt), waitMs);
}

function stepText(s: CheckResult['steps'][number]): string {
  return t(s.key, s.params ?? {});
}

function statusLine(r: CheckResult): HTMLElement {
  const b = r.bundle;
  if (!b) {
    const noBundle = r.steps.find((s) => s.key === 'check.step.noBundle');
    return h('p', {}, noBundle ? stepText(noBundle) : '');
  }
  const said =
    b.status === 'pending'
      ? t('check.status.pending')
      : b.status === 'sealed'
        ? b.window?.shard !== undefined
          ? t('check.status.sealedShard', { index: b.window.index, shard: b.window.shard })
          : t('check.status.sealed', { index: b.window?.index ?? '?' })
        : t('check.status.anchored');
  return h('p', {}, t('check.serverSays'), ' ', statusBadge(b.status, t(`check.badge.${b.status}` as Key)), ' ', said);
}

type Verified = Extract<CheckResult['outcome'], { state: 'verified' }>;

/** The root read from the chain and when it was anchored: the window's, or a sharded election's interval's. */
function onChain(o: Verified): { root: string; anchoredAt: number; label: Key } {
  if ('chainInterval' in o)
    return { root: o.chainInterval.root, anchoredAt: o.chainInterval.anchoredAt, label: 'check.chainIntervalRoot' };
  return { root: o.chainWindow.root, anchoredAt: o.chainWindow.anchoredAt, label: 'check.chainRoot' };
}

function banner(o: CheckResult['outcome'], polling: boolean): HTMLElement {
  if (o.state === 'failed') {
    // When the chain could not be read, nothing was compared: "report this" would say too much.
    const chainUnread = UNREAD_REASONS.includes(o.reason);
    return h(
      'div',
      { class: 'notice bad', role: 'alert', 'data-testid': 'check-outcome' },
      h('strong', {}, t('check.failed', { reason: t(o.reason, o.params) })),
      chainUnread ? null : h('p', {}, t('check.failedAdvice')),
    );
  }
  if (o.state === 'verified') {
    const anchoredAt = new Date(onChain(o).anchoredAt * 1000).toISOString();
    return h(
      'div',
      { class: 'notice ok', role: 'status', 'data-testid': 'check-outcome' },
      h('strong', {}, t('check.ok')),
      h('p', {}, t('check.okPlain', { when: formatDate(anchoredAt) })),
    );
  }
  return h(
    'div',
    { class: 'notice warn', role: 'status', 'data-testid': 'check-outcome' },
    h('strong', {}, t(o.state === 'sealed' ? 'check.okSealed' : 'check.okPending')),
    polling ? h('p', {}, t('check.waiting')) : null,
  );
}

function details(r: CheckResult): HTMLElement {
  const b = r.bundle;
  const o = r.outcome;
  const dl = h(
    'dl',
    { class: 'kv' },
    h('dt', {}, t('receipt.hash')),
    h('dd', {}, hexCode(r.receipt.ballotHash)),
    h('dt', {}, t('receipt.seq')),
    h('dd', {}, String(r.receipt.seq)),
    h('dt', {}, t('receipt.receivedAt')),
    h('dd', {}, formatDate(r.receipt.receivedAt)),
  );
  if (r.receipt.shard !== undefined) append(dl, h('dt', {}, t('check.shard')), h('dd', {}, String(r.receipt.shard)));
  if (r.windowIndex !== null) append(dl, h('dt', {}, t('check.window')), h('dd', {}, String(r.windowIndex)));
  if (b?.interval) append(dl, h('dt', {}, t('check.interval')), h('dd', {}, String(b.interval.index)));
  if (o.state === 'verified') {
    const chain = onChain(o);
    const anchoredAt = new Date(chain.anchoredAt * 1000).toISOString();
    append(
      dl,
      h('dt', {}, t(chain.label)),
      h('dd', {}, hexCode(chain.root)),
      h('dt', {}, t('check.anchoredAt')),
      h('dd', {}, formatDate(anchoredAt)),
    );
  }
  if (b?.anchor) {
    append(
      dl,
      h('dt', {}, t('check.tx')),
      h('dd', {}, hexCode(b.anchor.txHash, { 'data-testid': 'anchor-tx' })),
      h('dt', {}, t('check.block')),
      h('dd', {}, String(b.anchor.blockNumber ?? '?')),
    );
  }
  return dl;
}

/** The same check with the command-line verifier, with this page's API, RPC URL and contract. */
function cliCommand(ballotHash: string): HTMLElement {
  const rpc = typedRpcUrl() || '<chain JSON-RPC URL>';
  const contract = typedContract() || '<contract address>';
  return h(
    'details',
    {},
    h('summary', {}, t('check.cli')),
    h(
      'pre',
      { class: 'cmd' },
      `npx tallyproof-verify receipt ${ballotHash} \\\n  --api ${location.origin} --rpc ${rpc} --contract ${contract}`,
    ),
  );
}

function checkView(
  r: CheckResult,
  polling: boolean,
  hash: string,
  file: Receipt | null,
  credential: string | null,
): Node {
  const o = r.outcome;
  const steps = r.steps.map((s) => h('li', { class: s.ok === null ? 'info' : s.ok ? 'ok' : 'bad' }, stepText(s)));
  // Ordinary words first: each step, the hashes and the verifier command are behind "Details", open
  // when the check failed so the failing step shows at once.
  const more = moreDetails(t('common.details'), h('ul', { class: 'checks' }, ...steps), details(r));
  more.open = o.state === 'failed';
  return h(
    'div',
    {},
    statusLine(r),
    banner(o, polling),
    more,
    polling || o.state === 'failed'
      ? null
      : h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: () => void runCheck(hash, file, credential, true) }, t('check.again')),
        ),
    cliCommand(r.receipt.ballotHash),
  );
}

/** The check result again in the current language (its view is kept in the state). */
export function rerenderCheck(): void {
  if (state.checkView && checkResultBox.childElementCount > 0) replace(checkResultBox, state.checkView());
}

export function wireCheckForm(): void {
  $<HTMLInputElement>('#check-file').addEventListener('change', onReceiptFile);
  checkHash.addEventListener('input', () => {
    if (receiptFile && checkHash.value.trim() !== receiptFile.ballotHash) receiptFile = null;
  });
  checkForm.addEventListener('submit', onCheck);
}
