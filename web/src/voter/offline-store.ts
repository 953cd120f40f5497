// What the voter page keeps on the device (IndexedDB, database "tallyproof-voter"):
// - `outbox`: signed ballots not yet answered by the ledger (a ballot signed offline, or one whose POST
//   got no answer). The signed ballot only, never the private key; deleted once the ledger has answered.
// - `receipts`: the receipts the ledger gave on this device (no vote in them), with the latest result of
//   checking each one's proof against the chain.
// A small promise wrapper over the raw API (one object store per kind, keyed by ballotHash).
import type { Receipt, Submission } from '../protocol.js';
import type { SubmissionV2 } from '../v2/ballot.js';

const DB_NAME = 'tallyproof-voter';
const DB_VERSION = 1;
const OUTBOX = 'outbox';
const RECEIPTS = 'receipts';

/** A signed ballot waiting to be sent, with what is needed to check its receipt without the network. */
export interface PendingBallot {
  ballotHash: string;
  electionId: string;
  /** The body POSTed; null once the ledger has answered without a receipt (the vote is not kept then). */
  submission: Submission | SubmissionV2 | null;
  /** From the manifest: the receipt is checked against it when it arrives. */
  ledgerKey: string;
  closesAt: string;
  windowSeconds: number;
  title: string;
  savedAt: string;
}

/** The check of a receipt's proof: waiting for its window (pending, sealed), done, or the chain not read. */
export type ProofState = 'pending' | 'sealed' | 'verified' | 'failed' | 'unread';

export interface StoredReceipt {
  ballotHash: string;
  electionId: string;
  title: string;
  receipt: Receipt;
  storedAt: string;
  /** The last check of its proof against the chain, if any. */
  proof?: { state: ProofState; reason?: string; params?: Record<string, string | number>; checkedAt: string };
}

let opening: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  if (opening) return opening;
  opening = new Promise<IDBDatabase>((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('IndexedDB is not available'));
      return;
    }
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: 'ballotHash' });
      if (!db.objectStoreNames.contains(RECEIPTS)) db.createObjectStore(RECEIPTS, { keyPath: 'ballotHash' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
    req.onblocked = () => reject(new Error('IndexedDB open blocked'));
  });
  // A failed open may succeed later (another tab upgrading): do not keep the rejection.
  opening.catch(() => {
    opening = null;
  });
  return opening;
}

/** One request in its own transaction, resolved when the transaction is committed (not just the request). */
async function run<T>(store: string, mode: IDBTransactionMode, call: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const req = call(tx.objectStore(store));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error ?? req.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export const savePending = (p: PendingBallot): Promise<unknown> => run(OUTBOX, 'readwrite', (s) => s.put(p));
export const deletePending = (hash: string): Promise<unknown> => run(OUTBOX, 'readwrite', (s) => s.delete(hash));
export const listPending = (): Promise<PendingBallot[]> =>
  run(OUTBOX, 'readonly', (s) => s.getAll() as IDBRequest<PendingBallot[]>);

export const saveReceipt = (r: StoredReceipt): Promise<unknown> => run(RECEIPTS, 'readwrite', (s) => s.put(r));
export const listReceipts = (): Promise<StoredReceipt[]> =>
  run(RECEIPTS, 'readonly', (s) => s.getAll() as IDBRequest<StoredReceipt[]>);
export const getReceipt = (hash: string): Promise<StoredReceipt | undefined> =>
  run(RECEIPTS, 'readonly', (s) => s.get(hash) as IDBRequest<StoredReceipt | undefined>);
