// The public Tallyproof API (docs/protocol.md, section 9), called from the same origin that served the page.
import type { Manifest, ProofBundle, Receipt, Submission, WindowRecord } from './protocol.js';
import type { ManifestV2, SubmissionV2 } from './v2/ballot.js';
import type { Aggregate, Decryption, Transcript } from './v2/tally-check.js';

export const API = '/api/v1';

export interface ElectionInfo {
  /** Version 1 (plaintext ballots) or version 2 (encrypted ballots, docs/protocol.md section 12). */
  manifest: Manifest | ManifestV2;
  manifestHash: string;
  rollRoot: string | null;
  rollSize?: number;
  status: 'scheduled' | 'open' | 'closed';
  chainId: number | null;
  contract: string | null;
  registration?: { txHash: string | null; blockNumber: number | null } | null;
  /** Public JSON-RPC URL of the chain for observers (proposed addition; absent: the page asks). */
  chainRpcUrl?: string | null;
  /** When ballots actually stopped (an early admin close, else closesAt); null while not closed. */
  closedAt?: string | null;
  /** The result the close took; null until then. */
  result?: { resultHash: string; totalBallots: number } | null;
  /** The closeElection transaction, once mined and recorded. */
  closeTx?: { txHash: string; blockNumber: number | null } | null;
  /** Version 2 only (12.9): the election key once the trustees' key ceremony is complete. */
  encryption?: {
    publicKey: string | null;
    keyCeremony: 'in-progress' | 'complete';
    threshold: number;
    trustees: string[];
  };
}

export interface Results {
  electionId: string;
  /** null for an encrypted election until the trustees have decrypted (12.6). */
  tally: Record<string, Record<string, number>> | null;
  totalBallots: number;
  anchoredBallots: number;
  asOfSeq: number;
  /** Present for an encrypted election (12.6). */
  ballotMode?: 'plaintext' | 'encrypted';
  decryption?: {
    status: 'waiting' | 'complete';
    threshold: number;
    received: string[];
    aggregateHash: string;
  } | null;
}

/** A sealed window as GET …/windows lists it; `anchor` is null until the anchoring transaction is mined. */
export interface WindowInfo {
  index: number;
  firstSeq: number;
  count: number;
  root: string;
  sealedAt?: string;
  anchor: {
    chainId: number | null;
    contract: string | null;
    txHash: string;
    blockNumber: number | null;
    anchoredAt?: string | null;
  } | null;
}

/**
 * A sharded election's anchor interval as GET …/intervals lists it (docs/protocol.md 13.3): its window records
 * in tree order (shard, then window index); `anchor` is null until the anchorInterval transaction is mined.
 */
export interface IntervalInfo {
  index: number;
  windowCount: number;
  ballotCount: number;
  root: string;
  windows: WindowRecord[];
  anchor: {
    chainId: number | null;
    contract: string | null;
    txHash: string;
    blockNumber: number | null;
    anchoredAt?: string | null;
  } | null;
}

/** An error answer of the API: `{"error":{"code","message"}}` plus the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    // `no-cache`: the API's reads carry a short max-age for shared caches (docs/operations.md); the page wants
    // the current state every time it asks, which a revalidation gives (a 304 while nothing changed).
    res = await fetch(API + path, {
      cache: 'no-cache',
      ...init,
      headers: { accept: 'application/json', ...(init?.headers ?? {}) },
    });
  } catch (err) {
    throw new ApiError(0, 'network', (err as Error).message, null);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http-${res.status}`;
    const message = typeof error?.message === 'string' ? error.message : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, code, message, body);
  }
  return { status: res.status, body: body as T };
}

export async function getElection(id: string): Promise<ElectionInfo> {
  return (await request<ElectionInfo>(`/elections/${encodeURIComponent(id)}`)).body;
}

/**
 * Whether a public key is on the election's frozen roll (`GET …/roll/{credential}`, one lookup): true, or
 * false for 404 `not-on-roll`. Anything else (offline, rate limited, roll pending, an older server without
 * the route, an answer that is not the expected one) throws an ApiError: the caller cannot tell.
 */
export async function isOnRoll(electionId: string, credential: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const { status, body } = await request<{ onRoll?: unknown; credential?: unknown }>(
      `/elections/${encodeURIComponent(electionId)}/roll/${encodeURIComponent(credential)}`,
      { signal },
    );
    if (body?.onRoll === true && body.credential === credential) return true;
    throw new ApiError(status, 'unexpected-answer', 'the roll lookup gave an unexpected answer', body);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === 'not-on-roll') return false;
    throw err;
  }
}

export type SubmitOutcome =
  | { kind: 'accepted'; status: number; receipt: Receipt }
  | { kind: 'duplicate'; attemptCount: number; receipt: Receipt | null; message: string };

export async function submitBallot(electionId: string, submission: Submission | SubmissionV2): Promise<SubmitOutcome> {
  try {
    const { status, body } = await request<{ receipt: Receipt }>(
      `/elections/${encodeURIComponent(electionId)}/ballots`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(submission),
      },
    );
    return { kind: 'accepted', status, receipt: body.receipt };
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.code === 'duplicate') {
      const b = err.body as { attemptCount?: unknown; receipt?: Receipt };
      return {
        kind: 'duplicate',
        attemptCount: Number(b.attemptCount ?? 0),
        receipt: b.receipt ?? null,
        message: err.message,
      };
    }
    throw err;
  }
}

export async function getProofBundle(ballotHash: string): Promise<ProofBundle> {
  return (await request<ProofBundle>(`/receipts/${encodeURIComponent(ballotHash)}`)).body;
}

export async function getResults(electionId: string): Promise<Results> {
  return (await request<Results>(`/elections/${encodeURIComponent(electionId)}/results`)).body;
}

/** Every window, following the pages (`next` is the `from` of the next page while more remain). */
export async function getWindows(electionId: string): Promise<WindowInfo[]> {
  const all: WindowInfo[] = [];
  let from = 0;
  for (;;) {
    const path = `/elections/${encodeURIComponent(electionId)}/windows${from > 0 ? `?from=${from}` : ''}`;
    const { body } = await request<{ windows?: unknown; next?: unknown }>(path);
    if (!Array.isArray(body?.windows)) return all;
    all.push(...(body.windows as WindowInfo[]));
    // A next that does not move forward would loop for ever: stop there.
    if (typeof body.next !== 'number' || !Number.isSafeInteger(body.next) || body.next <= from) return all;
    from = body.next;
  }
}

/** The most intervals one page of GET …/intervals gives (13.3). */
export const INTERVALS_PAGE_LIMIT = 100;

/**
 * Every anchor interval of a sharded election, following the pages as getWindows does; `pageSize` (1..100,
 * default 100) is the `limit` asked for each page.
 */
export async function getIntervals(electionId: string, opts: { pageSize?: number } = {}): Promise<IntervalInfo[]> {
  const limit = Math.min(Math.max(Math.trunc(opts.pageSize ?? INTERVALS_PAGE_LIMIT), 1), INTERVALS_PAGE_LIMIT);
  const all: IntervalInfo[] = [];
  let from = 0;
  for (;;) {
    const path = `/elections/${encodeURIComponent(electionId)}/intervals?from=${from}&limit=${limit}`;
    const { body } = await request<{ intervals?: unknown; next?: unknown }>(path);
    if (!Array.isArray(body?.intervals)) return all;
    all.push(...(body.intervals as IntervalInfo[]));
    // A next that does not move forward would loop for ever: stop there.
    if (typeof body.next !== 'number' || !Number.isSafeInteger(body.next) || body.next <= from) return all;
    from = body.next;
  }
}

export function resultsStreamUrl(electionId: string): string {
  return `${API}/elections/${encodeURIComponent(electionId)}/results/stream`;
}

/** The public transcript of the trustees' messages (12.7). */
export async function getTrusteeMessages(electionId: string): Promise<Transcript> {
  return (await request<Transcript>(`/elections/${encodeURIComponent(electionId)}/trustee-messages`)).body;
}

/** The homomorphic aggregate of every ballot (12.5); 409 `not-closed` before the close. */
export async function getAggregate(electionId: string): Promise<Aggregate> {
  return (await request<Aggregate>(`/elections/${encodeURIComponent(electionId)}/aggregate`)).body;
}

/** The decryption result (12.5); 409 `not-decrypted` until K trustees have decrypted. */
export async function getDecryption(electionId: string): Promise<Decryption> {
  return (await request<Decryption>(`/elections/${encodeURIComponent(electionId)}/decryption`)).body;
}
