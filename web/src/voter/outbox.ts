// Voting offline: a signed ballot is kept on the device (offline-store.ts) until the ledger answers it,
// and sent again on the `online` event, on page load, every 15 s while online, and on "Send now".
// Sending again is harmless: a byte-identical resubmission gets the original receipt (docs/protocol.md
// section 7, 200), so a retry whose first answer was lost costs nothing. The answers:
// - a receipt (201, 200, or a 409 naming this very ballot) → kept in `receipts`, the ballot deleted;
// - election-closed → the receipt lookup tells whether the ballot got in before the close (its first
//   POST may have arrived, the answer lost); if not, the voter is told it was not counted;
// - another ballot of the credential (409), or any other refusal → kept as an answer without the vote;
// - no answer, a 5xx, 408 or 429 → kept, tried again later.
import { ApiError, getProofBundle, submitBallot } from '../api.js';
import { verifyReceiptSignature, type Receipt } from '../protocol.js';
import {
  deletePending,
  listPending,
  savePending,
  saveReceipt,
  type PendingBallot,
  type StoredReceipt,
} from './offline-store.js';

export type Delivery =
  /** `again`: the ledger had this ballot already (200, or its own receipt in a 409). */
  | { kind: 'receipt'; receipt: Receipt; again: boolean }
  | { kind: 'duplicate'; attemptCount: number; receipt: Receipt | null }
  /** The election closed before the ballot reached the ledger: not counted. */
  | { kind: 'late'; closedAt: string }
  | { kind: 'refused'; error: ApiError }
  /** No answer yet (network, 5xx, 408, 429): still in the outbox. */
  | { kind: 'retry'; error: unknown };

/** What the device knows of a ballot it signed: waiting, or answered without a receipt. */
export interface OutboxEntry extends PendingBallot {
  answer?: { kind: 'late'; closedAt: string } | { kind: 'duplicate' | 'refused'; code: string; message: string };
}

type Listener = (hash: string, d: Delivery) => void;
const listeners: Listener[] = [];
/** Called after every answer (or failed attempt) for a ballot of the outbox. */
export function onDelivery(fn: Listener): void {
  listeners.push(fn);
}
const changeListeners: (() => void)[] = [];
/** Called when the outbox or the stored receipts change. */
export function onOutboxChange(fn: () => void): void {
  changeListeners.push(fn);
}
function changed(): void {
  for (const fn of changeListeners) fn();
}

/** Ballots kept in memory too: the page still works (until it is closed) where IndexedDB does not. */
const memory = new Map<string, OutboxEntry>();
const inflight = new Map<string, Promise<Delivery>>();

/** Keep a signed ballot on the device; resolves true when it is in IndexedDB (survives a reload). */
export async function keep(p: PendingBallot): Promise<boolean> {
  memory.set(p.ballotHash, p);
  changed();
  try {
    await savePending(p);
    return true;
  } catch {
    return false;
  }
}

/** Every ballot the device holds without a receipt: waiting ones and answered ones (late, refused). */
export async function outbox(): Promise<OutboxEntry[]> {
  const all = new Map(memory);
  try {
    for (const p of (await listPending()) as OutboxEntry[]) all.set(p.ballotHash, p);
  } catch {
    // IndexedDB unavailable: what is in memory
  }
  return [...all.values()].sort((a, b) => a.savedAt.localeCompare(b.savedAt));
}

/** Forget an answered entry (the voter dismissed it). */
export async function dismiss(hash: string): Promise<void> {
  memory.delete(hash);
  await deletePending(hash).catch(() => {});
  changed();
}

/** The close time a refusal names ("the election closed at <ISO>"), else the manifest's closesAt. */
export function closedAtOf(err: ApiError, fallback: string): string {
  return /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/.exec(err.message)?.[0] ?? fallback;
}

function retryable(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.code === 'network' || err.status === 0 || err.status >= 500 || err.status === 408 || err.status === 429;
}

/** The receipt of this ballot; `again` when the ledger already had it. */
async function gotReceipt(p: PendingBallot, receipt: Receipt, again: boolean): Promise<Delivery> {
  const stored: StoredReceipt = {
    ballotHash: p.ballotHash,
    electionId: p.electionId,
    title: p.title,
    receipt,
    storedAt: new Date().toISOString(),
  };
  // A receipt for another hash, or not signed by the ledger key, is shown with its warning but not kept
  // as this ballot's receipt; the device keeps the ballot as answered, not to resend it for ever.
  if (receipt.ballotHash === p.ballotHash && verifyReceiptSignature(receipt, p.ledgerKey)) {
    await saveReceipt(stored).catch(() => {});
    memory.delete(p.ballotHash);
    await deletePending(p.ballotHash).catch(() => {});
  } else {
    await answered(p, {
      kind: 'refused',
      code: 'bad-receipt',
      message: `receipt ${receipt.ballotHash} #${receipt.seq}`,
    });
  }
  return { kind: 'receipt', receipt, again };
}

/** An answer without a receipt: kept (without the signed ballot, which holds the vote) for the voter to see. */
async function answered(p: PendingBallot, answer: NonNullable<OutboxEntry['answer']>): Promise<void> {
  const entry: OutboxEntry = { ...p, submission: null, answer };
  memory.set(p.ballotHash, entry);
  await savePending(entry).catch(() => {});
}

async function attempt(p: PendingBallot): Promise<Delivery> {
  if (!p.submission) return { kind: 'retry', error: new Error('nothing to send') };
  try {
    const outcome = await submitBallot(p.electionId, p.submission);
    if (outcome.kind === 'accepted') return await gotReceipt(p, outcome.receipt, outcome.status === 200);
    if (outcome.receipt?.ballotHash === p.ballotHash) return await gotReceipt(p, outcome.receipt, true);
    await answered(p, { kind: 'duplicate', code: 'duplicate', message: outcome.message });
    return { kind: 'duplicate', attemptCount: outcome.attemptCount, receipt: outcome.receipt };
  } catch (err) {
    if (retryable(err)) return { kind: 'retry', error: err };
    const e = err as ApiError;
    if (e.code === 'election-closed') {
      // A ballot the ledger took before the close (the first answer lost) is refused now, not resent: its
      // proof bundle says whether it is in.
      try {
        const bundle = await getProofBundle(p.ballotHash);
        if (bundle.receipt?.ballotHash === p.ballotHash) return await gotReceipt(p, bundle.receipt, true);
      } catch (lookupErr) {
        if (!(lookupErr instanceof ApiError && lookupErr.status === 404)) return { kind: 'retry', error: lookupErr };
      }
      const closedAt = closedAtOf(e, p.closesAt);
      await answered(p, { kind: 'late', closedAt });
      return { kind: 'late', closedAt };
    }
    await answered(p, { kind: 'refused', code: e.code, message: e.message });
    return { kind: 'refused', error: e };
  }
}

/** Send one ballot of the outbox (at most one request at a time per ballot). */
export function deliver(p: PendingBallot): Promise<Delivery> {
  const running = inflight.get(p.ballotHash);
  if (running) return running;
  const run = attempt(p)
    .then((d) => {
      for (const fn of listeners) fn(p.ballotHash, d);
      return d;
    })
    .finally(() => {
      inflight.delete(p.ballotHash);
      changed();
    });
  inflight.set(p.ballotHash, run);
  return run;
}

let flushing: Promise<void> | null = null;

/** Send every waiting ballot of the outbox, one after the other. */
export function flushOutbox(): Promise<void> {
  if (flushing) return flushing;
  flushing = (async () => {
    for (const p of await outbox()) {
      if (p.answer || !p.submission) continue;
      const d = await deliver(p);
      // Without a network the others would fail the same way: stop until the next trigger.
      if (d.kind === 'retry' && d.error instanceof ApiError && d.error.code === 'network') break;
    }
  })().finally(() => {
    flushing = null;
  });
  return flushing;
}

const RETRY_MS = 15_000;

/** Send what waits on load, when the network returns, and every 15 s while online. */
export function wireOutbox(): void {
  window.addEventListener('online', () => void flushOutbox());
  setInterval(() => {
    if (navigator.onLine) void flushOutbox();
  }, RETRY_MS);
  void flushOutbox();
}
