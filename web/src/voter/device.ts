// "On this device": the ballots waiting to be sent (with "Send now"), the ones the ledger answered
// without a receipt (the election had closed, or a refusal), and the receipts kept on the device, each
// one's proof checked against the chain once its window is anchored (src/check.ts, the checks of "Check my
// receipt"), the result kept with it.
import { ApiError, getElection, getProofBundle, type ElectionInfo } from '../api.js';
import { UNREAD_REASONS, checkReceipt } from '../check.js';
import { $, h, hexCode, moreDetails, replace } from '../dom.js';
import { formatDate, t, type Key } from '../i18n.js';
import type { Manifest } from '../protocol.js';
import { tilesBase, typedContract, typedRpcUrl } from './chain-settings.js';
import { startCheck } from './check-ui.js';
import { listReceipts, saveReceipt, type StoredReceipt } from './offline-store.js';
import { dismiss, flushOutbox, onDelivery, onOutboxChange, outbox, type OutboxEntry } from './outbox.js';
import { apiMessage, state, statusBadge } from './state.js';

const section = $('#device');
const box = $('#device-box');
let sending = false;
let lastError: string | null = null;

function pendingItem(p: OutboxEntry): HTMLElement {
  const a = p.answer;
  const text =
    a === undefined
      ? t('device.pendingItem', { title: p.title, when: formatDate(p.savedAt) })
      : a.kind === 'late'
        ? t('device.late', { when: formatDate(a.closedAt) })
        : a.kind === 'duplicate'
          ? t('device.duplicateAnswer')
          : a.code === 'bad-receipt'
            ? t('device.badReceipt')
            : t('device.refused', { message: a.message });
  return h(
    'li',
    { 'data-testid': a ? `outbox-${a.kind}` : 'outbox-waiting', 'data-hash': p.ballotHash },
    h('p', { class: a ? 'notice bad' : '' }, a ? h('strong', {}, p.title, ': ') : null, text),
    moreDetails(t('common.details'), h('p', {}, t('receipt.hash'), ' ', hexCode(p.ballotHash))),
    a ? h('button', { type: 'button', onclick: () => void dismiss(p.ballotHash) }, t('device.dismiss')) : null,
  );
}

function proofLine(r: StoredReceipt): HTMLElement {
  const p = r.proof;
  if (p?.state === 'failed') {
    const reason = t(p.reason as Key, p.params ?? {});
    return h('p', { class: 'notice bad', role: 'alert' }, t('check.failed', { reason }));
  }
  const label =
    p === undefined
      ? statusBadge('pending', t('device.proof.none'))
      : p.state === 'verified'
        ? statusBadge('anchored', t('device.proof.verified'))
        : p.state === 'unread'
          ? statusBadge('closed', t('device.proof.unread', { reason: t(p.reason as Key, p.params ?? {}) }))
          : statusBadge(p.state, t(`device.proof.${p.state}` as Key));
  return h('p', { 'data-testid': 'device-proof', 'data-state': p?.state ?? 'none' }, label);
}

function receiptItem(r: StoredReceipt): HTMLElement {
  return h(
    'li',
    { 'data-testid': 'device-receipt', 'data-hash': r.ballotHash },
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, t('device.election')),
      h('dd', {}, r.title),
      h('dt', {}, t('receipt.receivedAt')),
      h('dd', {}, formatDate(r.receipt.receivedAt)),
    ),
    proofLine(r),
    moreDetails(
      t('common.details'),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, t('receipt.hash')),
        h('dd', {}, hexCode(r.ballotHash)),
        h('dt', {}, t('receipt.seq')),
        h('dd', {}, String(r.receipt.seq)),
      ),
    ),
    h('button', { type: 'button', onclick: () => startCheck(r.ballotHash, r.receipt) }, t('device.check')),
  );
}

async function sendNow(): Promise<void> {
  if (sending) return;
  sending = true;
  lastError = null;
  void renderDevice();
  try {
    await flushOutbox();
  } finally {
    sending = false;
    void renderDevice();
  }
}

/** The section from what IndexedDB (and memory) hold; hidden while the device holds nothing. */
export async function renderDevice(): Promise<void> {
  const [entries, receipts] = await Promise.all([outbox(), listReceipts().catch(() => [] as StoredReceipt[])]);
  const waiting = entries.filter((p) => !p.answer);
  const answeredEntries = entries.filter((p) => p.answer);
  receipts.sort((a, b) => b.storedAt.localeCompare(a.storedAt));
  const parts: (Node | null)[] = [];
  if (waiting.length > 0) {
    parts.push(
      h('h3', {}, t('device.pendingHeading')),
      h('ul', { class: 'device-list', 'data-testid': 'outbox' }, ...waiting.map(pendingItem)),
      lastError ? h('p', { class: 'help' }, t('device.lastError', { message: lastError })) : null,
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', class: 'primary', id: 'send-now', disabled: sending, onclick: () => void sendNow() },
          t(sending ? 'device.sending' : 'device.sendAllNow'),
        ),
      ),
    );
  }
  if (answeredEntries.length > 0) parts.push(h('ul', { class: 'device-list' }, ...answeredEntries.map(pendingItem)));
  if (receipts.length > 0) {
    parts.push(
      h('h3', {}, t('device.receiptsHeading')),
      h('ul', { class: 'device-list', 'data-testid': 'device-receipts' }, ...receipts.map(receiptItem)),
    );
  }
  replace(box, ...parts);
  section.hidden = parts.length === 0;
  scheduleProofChecks(receipts);
}

// Proof checks: each receipt not yet verified (or failed) is looked up every 5 s while online.
const PROOF_POLL_MS = 5000;
let proofTimer: ReturnType<typeof setTimeout> | null = null;
let checking = false;
const elections = new Map<string, ElectionInfo>();

async function electionOf(id: string): Promise<ElectionInfo> {
  if (state.election?.manifest.electionId === id) return state.election;
  let e = elections.get(id);
  if (!e) {
    e = await getElection(id);
    elections.set(id, e);
  }
  return e;
}

const done = (r: StoredReceipt): boolean => r.proof?.state === 'verified' || r.proof?.state === 'failed';

function scheduleProofChecks(receipts: StoredReceipt[]): void {
  if (proofTimer !== null || checking || receipts.every(done)) return;
  proofTimer = setTimeout(() => {
    proofTimer = null;
    void checkProofs();
  }, PROOF_POLL_MS);
}

/** Check the proof of every stored receipt not yet verified; keep each result with its receipt. */
export async function checkProofs(): Promise<void> {
  if (checking || !navigator.onLine) return;
  checking = true;
  let touched = false;
  try {
    for (const r of await listReceipts()) {
      if (done(r)) continue;
      let proof: StoredReceipt['proof'];
      try {
        const bundle = await getProofBundle(r.ballotHash);
        if (bundle.status !== 'anchored') {
          proof = { state: bundle.status, checkedAt: new Date().toISOString() };
        } else {
          const e = await electionOf(r.electionId);
          const result = await checkReceipt({
            ballotHash: r.ballotHash,
            bundle,
            // The receipt check reads electionId and ledgerKey, the same in a version 2 manifest.
            manifest: e.manifest as Manifest,
            chainId: e.chainId,
            rpcUrl: typedRpcUrl() || e.chainRpcUrl || null,
            contract: typedContract() || e.contract,
            receiptFile: r.receipt,
            tilesBase: tilesBase(),
          });
          const o = result.outcome;
          const checkedAt = new Date().toISOString();
          if (o.state !== 'failed') proof = { state: o.state, checkedAt };
          else {
            // The chain not read is no verdict: tried again later.
            const unread = UNREAD_REASONS.includes(o.reason);
            proof = { state: unread ? 'unread' : 'failed', reason: o.reason, params: o.params, checkedAt };
          }
        }
      } catch (err) {
        if (err instanceof ApiError && err.code === 'network') break;
        const checkedAt = new Date().toISOString();
        proof = { state: 'unread', reason: 'device.lookupFailed', params: { message: apiMessage(err) }, checkedAt };
      }
      if (proof && (proof.state !== r.proof?.state || proof.reason !== r.proof?.reason)) {
        await saveReceipt({ ...r, proof }).catch(() => {});
        touched = true;
      }
    }
  } catch {
    // IndexedDB unavailable: nothing stored to check
  } finally {
    checking = false;
  }
  if (touched) await renderDevice();
  else scheduleProofChecks(await listReceipts().catch(() => []));
}

/** Show what the device holds, and keep the section current. */
export function wireDevice(): void {
  onOutboxChange(() => void renderDevice());
  onDelivery((_hash, d) => {
    lastError = d.kind === 'retry' ? apiMessage(d.error) : null;
  });
  window.addEventListener('online', () => void checkProofs());
  void renderDevice();
}
