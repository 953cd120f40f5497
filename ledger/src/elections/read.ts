// Reading elections: the one row mapper, the election view the API and the worker share, a small cache
// for the hot ingest path, and the frozen roll as pages.
import type { Sql, TransactionSql } from 'postgres';
import type { Manifest } from '../protocol/protocol.js';

export interface ElectionRecord {
  electionId: string;
  manifest: Manifest;
  manifestJcs: string;
  manifestHash: string;
  opensAtMs: number;
  closesAtMs: number;
  windowSeconds: number;
  rollRoot: string | null;
  /** Keys on the roll: frozen at finalize; while the roll is loading, the keys committed so far. */
  rollSize: number;
  closed: boolean;
  registrationTx: string | null;
  registrationBlock: number | null;
  /** When the close was asked for (the API's close route or the worker's close step), ms; null until then. */
  closeRequestedAtMs: number | null;
  resultHash: string | null;
  totalBallots: number | null;
  closeTx: string | null;
  closeBlock: number | null;
  /** Shards of the ledger (docs/protocol.md section 13): 1 unless the manifest names more. */
  shards: number;
  /** Version 2 (encrypted ballots, docs/protocol.md section 12) only; null for a plaintext election. */
  encryption: ElectionEncryption | null;
}

/** What an encrypted election's record says of its trustees and key (docs/protocol.md 12.3). */
export interface ElectionEncryption {
  threshold: number;
  /** The trustees' ids, in manifest order (trustee i is the i-th, 1-based). */
  trustees: string[];
  /** The election key H (lowercase hex), once every trustee has confirmed it; null before. */
  publicKey: string | null;
  /** 'complete' exactly when publicKey is set: only then does the election take ballots. */
  keyCeremony: 'in-progress' | 'complete';
}

/**
 * The one mapper of an `elections` row joined with its (first shard's) head's `closed` and (left join, migration 0008)
 * its `election_keys` row's `public_key`.
 */
export function rowToElection(r: Record<string, unknown>): ElectionRecord {
  const manifest = JSON.parse(r.manifest as string) as Manifest;
  const publicKey = r.public_key ? (r.public_key as Buffer).toString('hex') : null;
  return {
    electionId: r.election_id as string,
    manifest,
    manifestJcs: r.manifest as string,
    manifestHash: (r.manifest_hash as Buffer).toString('hex'),
    opensAtMs: (r.opens_at as Date).getTime(),
    closesAtMs: (r.closes_at as Date).getTime(),
    windowSeconds: Number(r.window_seconds),
    rollRoot: r.roll_root ? (r.roll_root as Buffer).toString('hex') : null,
    rollSize: Number(r.roll_size),
    closed: Boolean(r.closed),
    registrationTx: (r.registration_tx as string | null) ?? null,
    registrationBlock: r.registration_block == null ? null : Number(r.registration_block),
    closeRequestedAtMs: r.close_requested_at == null ? null : (r.close_requested_at as Date).getTime(),
    resultHash: r.result_hash ? (r.result_hash as Buffer).toString('hex') : null,
    totalBallots: r.total_ballots == null ? null : Number(r.total_ballots),
    closeTx: (r.close_tx as string | null) ?? null,
    closeBlock: r.close_block == null ? null : Number(r.close_block),
    shards: r.shards == null ? 1 : Number(r.shards),
    encryption:
      manifest.version === 2
        ? {
            threshold: manifest.threshold ?? 0,
            trustees: (manifest.trustees ?? []).map((t) => t.id),
            publicKey,
            keyCeremony: publicKey === null ? 'in-progress' : 'complete',
          }
        : null,
  };
}

/**
 * When an election does not take ballots yet (election-not-open): its roll is not frozen, opensAt has not
 * come, or (encrypted) its key ceremony is not complete, so there is no key to encrypt to.
 */
export function notYetOpen(
  e: Pick<ElectionRecord, 'rollRoot' | 'opensAtMs' | 'encryption'>,
  nowMs = Date.now(),
): boolean {
  return e.rollRoot === null || nowMs < e.opensAtMs || (e.encryption !== null && e.encryption.publicKey === null);
}

/**
 * When the election actually stopped taking ballots (ms), or null while it still takes them (or has not
 * opened): the admin close when it came before the scheduled `closesAt`, else `closesAt` once it has passed
 * (a close asked for after `closesAt` changes nothing: ballots were refused from `closesAt` on). Non-null
 * exactly when the ingest refuses ballots as `election-closed` (closed head, or `nowMs >= closesAtMs`).
 */
export function closedAtMs(
  e: Pick<ElectionRecord, 'closed' | 'closesAtMs' | 'closeRequestedAtMs'>,
  nowMs = Date.now(),
): number | null {
  if (e.closeRequestedAtMs !== null && e.closeRequestedAtMs < e.closesAtMs) return e.closeRequestedAtMs;
  // closed without a recorded request time cannot happen (closeHead writes both in one transaction); and a
  // request at or after closesAt, seen from an API clock a little behind the database's, still means closesAt.
  if (e.closed || nowMs >= e.closesAtMs) return e.closesAtMs;
  return null;
}

/** The election's shard count (1 for an unknown election: nothing to seal or anchor there either). */
export async function electionShardCount(sql: Sql, electionId: string): Promise<number> {
  const [r] = await sql`SELECT shards FROM elections WHERE election_id = ${electionId}`;
  return r ? Number(r.shards) : 1;
}

/** The election as stored, or null. `rollSize` is the elections row's (0 while the roll is loading). */
export async function getElection(sql: Sql | TransactionSql, electionId: string): Promise<ElectionRecord | null> {
  const [r] = await sql`SELECT e.*, h.closed, k.public_key
                        FROM elections e JOIN election_heads h ON h.election_id = e.election_id AND h.shard = 0
                        LEFT JOIN election_keys k ON k.election_id = e.election_id
                        WHERE e.election_id = ${electionId}`;
  return r ? rowToElection(r) : null;
}

/**
 * The election as the public sees it: like getElection, but a roll still loading reports the keys
 * committed so far (loadedRollSize) as its rollSize.
 */
export async function getPublicElection(sql: Sql, electionId: string): Promise<ElectionRecord | null> {
  const e = await getElection(sql, electionId);
  if (e && e.rollRoot === null) e.rollSize = await loadedRollSize(sql, electionId);
  return e;
}

/**
 * Keys on a roll that is still loading, from the uploads' own counts (migration 0005): a few rows, where
 * counting the roll would scan it. Each upload adds exactly the keys its INSERT added, and it is
 * recorded in the upload's transaction, so the sum is the roll as committed.
 */
export async function loadedRollSize(sql: Sql | TransactionSql, electionId: string): Promise<number> {
  const [r] =
    await sql`SELECT coalesce(sum(added), 0)::bigint AS n FROM roll_uploads WHERE election_id = ${electionId}`;
  return Number(r!.n);
}

/** Keys per page of rollPages (about 670 KB of NDJSON). */
export const ROLL_PAGE = 10_000;

/**
 * The frozen roll as NDJSON text (one JSON string of lowercase hex per line), one page of keys per chunk,
 * ascending bytewise — the order rollRoot is computed
 * over (PostgreSQL compares bytea with memcmp, as finalizeRoll relies on too). Keyset pagination on the
 * (election_id, credential) primary key rather than a server-side cursor: a slow reader holds no database
 * connection between pages, and memory stays at one page whatever the roll's size. The roll cannot change
 * once frozen (the credentials_frozen trigger), so the pages form one consistent snapshot.
 */
export async function* rollPages(sql: Sql, electionId: string, pageSize = ROLL_PAGE): AsyncGenerator<string> {
  let after: Buffer | null = null;
  for (;;) {
    const rows: readonly { credential: Buffer }[] =
      after === null
        ? await sql`SELECT credential FROM credentials WHERE election_id = ${electionId}
                  ORDER BY credential LIMIT ${pageSize}`
        : await sql`SELECT credential FROM credentials WHERE election_id = ${electionId} AND credential > ${after}
                  ORDER BY credential LIMIT ${pageSize}`;
    if (rows.length === 0) return;
    let out = '';
    for (const r of rows) out += `"${r.credential.toString('hex')}"\n`;
    yield out;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.credential;
  }
}

/**
 * Elections rarely change and the ingest path reads one per ballot: cache them briefly. Only `closed`
 * changes after creation, and the committing transaction re-reads it under the head lock, so a stale
 * cache entry can never let a ballot into a closed election.
 */
export class ElectionCache {
  private readonly entries = new Map<string, { at: number; value: Promise<ElectionRecord | null> }>();
  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 1000,
    /**
     * Shard clusters holding copies of sharded elections' records (db/clusters.ts): read when the home
     * cannot be, so that a home outage does not stop the shards held elsewhere.
     */
    private readonly fallbacks: readonly Sql[] = [],
  ) {}

  get(electionId: string): Promise<ElectionRecord | null> {
    const now = Date.now();
    const hit = this.entries.get(electionId);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.read(electionId);
    this.entries.set(electionId, { at: now, value });
    value.catch(() => this.entries.delete(electionId));
    if (this.entries.size > 10_000) this.entries.clear();
    return value;
  }

  private async read(electionId: string): Promise<ElectionRecord | null> {
    try {
      return await getElection(this.sql, electionId);
    } catch (err) {
      for (const sql of this.fallbacks) {
        const copy = await getElection(sql, electionId).catch(() => null);
        if (copy) return copy;
      }
      throw err;
    }
  }

  invalidate(electionId: string): void {
    this.entries.delete(electionId);
  }
}
