// Steps 4 and 5, the cast and the receipt: the ballot signed in the page, POST …/ballots, the receipt's
// signature checked at once against the manifest's ledger key and its hash against the page's own; a
// duplicate shows "already voted", the attempt count and the original receipt.
// The signed ballot goes through the device's outbox (outbox.ts): kept in IndexedDB until the ledger
// answers, so a ballot signed offline, or whose answer the network lost, is sent when the network returns.
// Once it is answered or kept, the private key is cleared from the page. An encrypted election's ballot
// (encrypted, signed and possibly audited first by ../v2/voter-ui.ts) is cast through castSubmission too.
import { $, download, h, hexCode, moreDetails, replace, reveal } from '../dom.js';
import { formatDate, t } from '../i18n.js';
import {
  ballotHash,
  signBallot,
  verifyReceiptSignature,
  type Ballot,
  type Receipt,
  type Submission,
} from '../protocol.js';
import type { SubmissionV2 } from '../v2/ballot.js';
import { startCheck } from './check-ui.js';
import { clearKeyInputs } from './credential.js';
import type { PendingBallot } from './offline-store.js';
import { deliver, dismiss, flushOutbox, keep, onDelivery, type Delivery } from './outbox.js';
import { apiMessage, clearSeed, show, state } from './state.js';

const castButton = $<HTMLButtonElement>('#cast-button');
type Shown = Pick<PendingBallot, 'ballotHash' | 'ledgerKey' | 'windowSeconds'>;
/** The ballot the receipt step is about: an answer for it that comes later (outbox) replaces the view. */
let shown: Shown | null = null;

function forgetKey(): void {
  clearSeed();
  clearKeyInputs();
}

function showReceiptStep(p: Shown, view: () => Node): void {
  shown = { ballotHash: p.ballotHash, ledgerKey: p.ledgerKey, windowSeconds: p.windowSeconds };
  state.receiptView = view;
  replace($('#receipt-box'), view());
  $('#step-review').hidden = true;
  reveal($('#step-receipt'));
}

/** The view of an answer; null when there is none (still waiting). */
function answerView(d: Delivery, p: Shown): (() => Node) | null {
  switch (d.kind) {
    case 'receipt':
      return () => receiptView(d.receipt, p.ballotHash, d.again, p.ledgerKey, p.windowSeconds);
    case 'duplicate':
      return () => duplicateView(d.attemptCount, d.receipt);
    case 'late':
      return () => lateView(d.closedAt);
    case 'refused':
      return () => h('p', { class: 'notice bad', role: 'alert' }, apiMessage(d.error));
    default:
      return null;
  }
}

async function onCast(): Promise<void> {
  const e = state.election;
  if (!e || !state.seed || !state.credential || !state.selections) return;
  const castError = $('#cast-error');
  show(castError, null);
  castButton.disabled = true;
  castButton.textContent = t('review.casting');
  try {
    const ballot: Ballot = {
      version: 1,
      electionId: e.manifest.electionId,
      credential: state.credential,
      selections: state.selections,
    };
    const submission = signBallot(state.seed, ballot);
    await castSubmission(submission, ballotHash(submission));
  } catch (err) {
    show(castError, apiMessage(err));
  } finally {
    castButton.disabled = false;
    castButton.textContent = t('review.cast');
  }
}

/**
 * Cast a signed ballot (version 1, or a version 2 ballot encrypted and signed by the page): kept on the
 * device before it is sent, then the answer shown. Resolves 'refused' when it was refused here and now
 * (the message is under the review, the key still loaded: the voter may correct and cast again), else
 * 'answered' (a receipt, a duplicate, a late ballot, or kept to be sent later).
 */
export async function castSubmission(
  submission: Submission | SubmissionV2,
  hash: string,
): Promise<'answered' | 'refused'> {
  const e = state.election;
  if (!e) return 'refused';
  const castError = $('#cast-error');
  show(castError, null);
  try {
    const pending: PendingBallot = {
      ballotHash: hash,
      electionId: e.manifest.electionId,
      submission,
      ledgerKey: e.manifest.ledgerKey,
      closesAt: e.manifest.closesAt,
      windowSeconds: e.manifest.windowSeconds,
      title: e.manifest.title,
      savedAt: new Date().toISOString(),
    };
    // Kept before it is sent: if the page is closed or the answer lost, it is sent again later.
    const kept = await keep(pending);
    if (!navigator.onLine) {
      if (kept) {
        forgetKey();
        showReceiptStep(pending, () => savedView(pending.ballotHash, t('offline.youAreOffline')));
        return 'answered';
      }
      show(castError, t('offline.notSaved'));
      return 'refused';
    }
    const d = await deliver(pending);
    if (d.kind === 'retry') {
      if (kept) {
        // No answer: the ballot waits on the device; the key is no longer needed.
        forgetKey();
        showReceiptStep(pending, () => savedView(pending.ballotHash, apiMessage(d.error)));
        return 'answered';
      }
      show(castError, apiMessage(d.error));
      return 'refused';
    }
    // Answered here and now: the device list need not repeat a refusal the voter sees.
    if (d.kind !== 'receipt') await dismiss(pending.ballotHash);
    if (d.kind === 'refused') {
      // The voter may correct and cast again, the key still loaded.
      show(castError, apiMessage(d.error));
      return 'refused';
    }
    forgetKey();
    showReceiptStep(pending, answerView(d, pending)!);
    return 'answered';
  } catch (err) {
    show(castError, apiMessage(err));
    return 'refused';
  }
}

/** When the ballot went in, in plain words; the receipt hash and ledger position behind "Details". */
function receiptDetails(r: Receipt): HTMLElement {
  return h(
    'div',
    {},
    h('p', {}, t('receipt.inBox', { when: formatDate(r.receivedAt) })),
    moreDetails(
      t('common.details'),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, t('receipt.hash')),
        h('dd', {}, hexCode(r.ballotHash, { 'data-testid': 'receipt-hash' })),
        h('dt', {}, t('receipt.seq')),
        h('dd', {}, String(r.seq)),
        h('dt', {}, t('receipt.receivedAt')),
        h('dd', {}, formatDate(r.receivedAt)),
      ),
    ),
  );
}

function receiptActions(r: Receipt): HTMLElement {
  // The credential that just cast this ballot: the check then also confirms the receipt's shard is its own.
  const credential = state.credential;
  const save = (): void =>
    download(`tallyproof-receipt-${r.ballotHash.slice(0, 12)}.json`, JSON.stringify(r, null, 2) + '\n');
  return h(
    'div',
    { class: 'actions' },
    h('button', { type: 'button', onclick: save }, t('receipt.download')),
    h(
      'button',
      { type: 'button', class: 'primary', onclick: () => startCheck(r.ballotHash, r, credential) },
      t('receipt.check'),
    ),
  );
}

function receiptView(r: Receipt, expectedHash: string, again: boolean, ledgerKey: string, windowSeconds: number): Node {
  const signed = verifyReceiptSignature(r, ledgerKey);
  const sameHash = r.ballotHash === expectedHash;
  return h(
    'div',
    {},
    h(
      'div',
      { class: `notice ${signed && sameHash ? 'ok' : 'bad'}`, role: 'status' },
      h('strong', {}, t(again ? 'receipt.again' : 'receipt.accepted')),
      h('p', {}, signed ? t('receipt.signatureOk') : t('receipt.signatureBad')),
      sameHash ? null : h('p', {}, t('receipt.hashMismatch', { got: r.ballotHash, expected: expectedHash })),
    ),
    receiptDetails(r),
    h('p', {}, t('receipt.promise', { seconds: windowSeconds + 30 }), ' ', t('receipt.keep')),
    h('p', { class: 'help' }, t('offline.keyCleared')),
    receiptActions(r),
  );
}

function duplicateView(attemptCount: number, original: Receipt | null): Node {
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'notice bad', role: 'alert' },
      h('strong', {}, t('dup.title')),
      h('p', {}, t('dup.body', { n: attemptCount })),
    ),
    original ? h('div', {}, h('p', {}, t('dup.original')), receiptDetails(original), receiptActions(original)) : null,
  );
}

/** Signed and kept on the device, not answered yet: sent when the network returns. */
function savedView(hash: string, reason: string): Node {
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'notice warn', role: 'status', 'data-testid': 'saved-offline' },
      h('strong', {}, t('offline.savedTitle')),
      h('p', {}, t('offline.savedBody', { reason })),
    ),
    h('dl', { class: 'kv' }, h('dt', {}, t('receipt.hash')), h('dd', {}, hexCode(hash))),
    h('p', { class: 'help' }, t('offline.keyCleared')),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => void flushOutbox() }, t('device.sendNow')),
    ),
  );
}

/** The election closed before the ballot reached the ledger. */
function lateView(closedAt: string): Node {
  return h(
    'div',
    { class: 'notice bad', role: 'alert', 'data-testid': 'late' },
    h('strong', {}, t('offline.lateTitle')),
    h('p', {}, t('device.late', { when: formatDate(closedAt) })),
  );
}

/** The receipt step again in the current language (its view is kept in the state). */
export function rerenderReceipt(): void {
  if (state.receiptView && !$('#step-receipt').hidden) replace($('#receipt-box'), state.receiptView());
}

export function wireCastStep(): void {
  castButton.addEventListener('click', onCast);
  // A ballot shown as saved gets its answer from the outbox (network back, "Send now", a reload's send).
  onDelivery((hash, d) => {
    if (hash !== shown?.ballotHash || $('#step-receipt').hidden) return;
    const view = answerView(d, shown);
    if (!view) return;
    state.receiptView = view;
    replace($('#receipt-box'), view());
  });
}
