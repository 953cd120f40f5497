// Elections in the ledger: creating one (manifest, roll, head row), loading a roll in chunks, freezing
// it with its rollRoot, and a small read cache for the hot ingest path.
import type { Sql } from 'postgres';
import { jcs } from './protocol/jcs.js';
import { MerkleRootBuilder } from './protocol/merkle.js';
import { manifestHash, type Manifest } from './protocol/protocol.js';

export interface ElectionRecord {
  electionId: string;
  manifest: Manifest;
  manifestJcs: string;
  manifestHash: string;
  opensAtMs: number;
  closesAtMs: number;
  windowSeconds: number;
  rollRoot: string | null;
  rollSize: number;
  closed: boolean;
  registrationTx: string | null;
  registrationBlock: number | null;
  resultHash: string | null;
  closeTx: string | null;
}

export type ElectionStatus = 'scheduled' | 'open' | 'closed';

export function electionStatus(e: Pick<ElectionRecord, 'opensAtMs' | 'closesAtMs' | 'closed'>, nowMs = Date.now()): ElectionStatus {
  if (e.closed || nowMs >= e.closesAtMs) return 'closed';
  return nowMs >= e.opensAtMs ? 'open' : 'scheduled';
}

/** Insert the election and its head row; the roll stays open for chunks until finalizeRoll. */
export async function insertElection(sql: Sql, manifest: Manifest): Promise<{ manifestHash: string }> {
  const text = jcs(manifest);
  const mh = manifestHash(manifest);
  await sql.begin(async (tx) => {
    await tx`INSERT INTO elections (election_id, manifest, manifest_hash, opens_at, closes_at, window_seconds)
             VALUES (${manifest.electionId}, ${text}, ${mh}, ${manifest.opensAt}, ${manifest.closesAt}, ${manifest.windowSeconds})`;
    await tx`INSERT INTO election_heads (election_id) VALUES (${manifest.electionId})`;
  });
  return { manifestHash: mh.toString('hex') };
}

/** Add keys to a roll that is not yet frozen. Idempotent: a key already there is skipped. Returns how many were new. */
export async function appendRoll(sql: Sql, electionId: string, keys: readonly Buffer[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < keys.length; i += 20_000) {
    const chunk = keys.slice(i, i + 20_000).map((k) => k.toString('hex'));
    const rows = await sql`INSERT INTO credentials (election_id, credential)
      SELECT ${electionId}, decode(k, 'hex') FROM unnest(${chunk}::text[]) AS k
      ON CONFLICT DO NOTHING RETURNING 1`;
    added += rows.count;
  }
  return added;
}

/** Compute rollRoot over the whole roll (sorted bytewise, streamed) and freeze the roll. */
export async function finalizeRoll(sql: Sql, electionId: string): Promise<{ rollRoot: string; rollSize: number }> {
  return sql.begin(async (tx) => {
    const [e] = await tx`SELECT roll_root FROM elections WHERE election_id = ${electionId} FOR UPDATE`;
    if (!e) throw new Error(`no election ${electionId}`);
    if (e.roll_root) {
      const [{ n }] = await tx`SELECT roll_size AS n FROM elections WHERE election_id = ${electionId}`;
      return { rollRoot: (e.roll_root as Buffer).toString('hex'), rollSize: Number(n) };
    }
    const builder = new MerkleRootBuilder();
    // bytea orders bytewise (memcmp), which is the order rollRoot is defined over.
    await tx`SELECT credential FROM credentials WHERE election_id = ${electionId} ORDER BY credential`.cursor(10_000, (rows) => {
      for (const r of rows) builder.push(r.credential as Buffer);
    });
    const root = builder.root();
    await tx`UPDATE elections SET roll_root = ${root}, roll_size = ${builder.size} WHERE election_id = ${electionId}`;
    return { rollRoot: root.toString('hex'), rollSize: builder.size };
  });
}

/** Create an election with its whole roll in one go (keys already validated and sorted). */
export async function createElection(sql: Sql, manifest: Manifest, sortedKeys: readonly Buffer[]): Promise<{ manifestHash: string; rollRoot: string; rollSize: number }> {
  const { manifestHash: mh } = await insertElection(sql, manifest);
  await appendRoll(sql, manifest.electionId, sortedKeys);
  const { rollRoot, rollSize } = await finalizeRoll(sql, manifest.electionId);
  return { manifestHash: mh, rollRoot, rollSize };
}

function rowToRecord(r: Record<string, unknown>): ElectionRecord {
  const manifest = JSON.parse(r.manifest as string) as Manifest;
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
    resultHash: r.result_hash ? (r.result_hash as Buffer).toString('hex') : null,
    closeTx: (r.close_tx as string | null) ?? null,
  };
}

export async function getElection(sql: Sql, electionId: string): Promise<ElectionRecord | null> {
  const [r] = await sql`SELECT e.*, h.closed FROM elections e JOIN election_heads h USING (election_id) WHERE e.election_id = ${electionId}`;
  return r ? rowToRecord(r) : null;
}

/**
 * Elections rarely change and the ingest path reads one per ballot: cache them briefly. Only `closed`
 * changes after creation, and the committing transaction re-reads it under the head lock, so a stale
 * cache entry can never let a ballot into a closed election.
 */
export class ElectionCache {
  private readonly entries = new Map<string, { at: number; value: Promise<ElectionRecord | null> }>();
  constructor(private readonly sql: Sql, private readonly ttlMs = 1000) {}

  get(electionId: string): Promise<ElectionRecord | null> {
    const now = Date.now();
    const hit = this.entries.get(electionId);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = getElection(this.sql, electionId);
    this.entries.set(electionId, { at: now, value });
    value.catch(() => this.entries.delete(electionId));
    if (this.entries.size > 10_000) this.entries.clear();
    return value;
  }

  invalidate(electionId: string): void {
    this.entries.delete(electionId);
  }
}
