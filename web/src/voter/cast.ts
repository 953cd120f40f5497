// Steps 4 and 5, the cast and the receipt: the ballot signed in the page, POST …/ballots, the receipt's
// signature checked at once against the manifest's ledger key and its hash against the page's own; a
// duplicate shows "already voted", the attempt count and the original receipt.
import { submitBallot } from '../api.js';
import { $, download, h, hexCode, replace, reveal } from '../dom.js';
import { formatDate, t } from '../i18n.js';
import { ballotHash, signBallot, verifyReceiptSignature, type Ballot, type Receipt } from '../protocol.js';
import { startCheck } from './check-ui.js';
import { apiMessage, show, state } from './state.js';

const castButton = $<HTMLButtonElement>('#cast-button');

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
    const expectedHash = ballotHash(submission);
    const outcome = await submitBallot(e.manifest.electionId, submission);
    if (outcome.kind === 'accepted') {
      state.receiptView = () => receiptView(outcome.receipt, expectedHash, outcome.status === 200);
    } else {
      state.receiptView = () => duplicateView(outcome.attemptCount, outcome.receipt);
    }
    replace($('#receipt-box'), state.receiptView());
    $('#step-review').hidden = true;
    reveal($('#step-receipt'));
  } catch (err) {
    show(castError, apiMessage(err));
  } finally {
    castButton.disabled = false;
    castButton.textContent = t('review.cast');
  }
}

function receiptDetails(r: Receipt): HTMLElement {
  return h(
    'dl',
    { class: 'kv' },
    h('dt', {}, t('receipt.hash')),
    h('dd', {}, hexCode(r.ballotHash, { 'data-testid': 'receipt-hash' })),
    h('dt', {}, t('receipt.seq')),
    h('dd', {}, String(r.seq)),
    h('dt', {}, t('receipt.receivedAt')),
    h('dd', {}, formatDate(r.receivedAt)),
  );
}

function receiptActions(r: Receipt): HTMLElement {
  const save = (): void =>
    download(`tallyproof-receipt-${r.ballotHash.slice(0, 12)}.json`, JSON.stringify(r, null, 2) + '\n');
  return h(
    'div',
    { class: 'actions' },
    h('button', { type: 'button', onclick: save }, t('receipt.download')),
    h('button', { type: 'button', class: 'primary', onclick: () => startCheck(r.ballotHash, r) }, t('receipt.check')),
  );
}

function receiptView(r: Receipt, expectedHash: string, again: boolean): Node {
  const e = state.election!;
  const signed = verifyReceiptSignature(r, e.manifest.ledgerKey);
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
    h('p', {}, t('receipt.promise', { seconds: e.manifest.windowSeconds + 30 }), ' ', t('receipt.keep')),
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

/** The receipt step again in the current language (its view is kept in the state). */
export function rerenderReceipt(): void {
  if (state.receiptView && !$('#step-receipt').hidden) replace($('#receipt-box'), state.receiptView());
}

export function wireCastStep(): void {
  castButton.addEventListener('click', onCast);
}
