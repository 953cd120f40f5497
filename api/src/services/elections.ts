// Election administration behind the admin routes: create (with a whole roll, or with the roll left open
// for streamed uploads), add roll keys, finalize the roll, close. Each step is one transaction and is
// safe to retry: a client that lost a response sends the same request again.
import type { Readable } from 'node:stream';
import type { Sql, TransactionSql } from 'postgres';
import { jcs } from '../../../ledger/src/protocol/jcs.js';
import { isHex } from '../../../ledger/src/protocol/hash.js';
import { manifestHash as hashManifest, rollRoot as computeRollRoot, type Manifest } from '../../../ledger/src/protocol/protocol.js';
import { finalizeRoll, getElection, type ElectionRecord } from '../../../ledger/src/elections.js';
import { ProtocolError } from '../errors.js';
import type { CredentialCheckPool } from './credential-check.js';

/** Keys per INSERT and per validation batch. */
const CHUNK = 10_000;

export interface CreatedElection {
  electionId: string;
  manifestHash: string;
  rollRoot: string | null;
  rollSize: number;
}

/** Hex keys → raw keys, checked (format, curve, repeats) and sorted; errors name the offending index. */
export async function validateRollKeys(roll: readonly unknown[], checker: CredentialCheckPool): Promise<Buffer[]> {
  const keys = roll.map((k, i) => {
    if (!isHex(k, 32)) throw new ProtocolError('invalid-roll', `roll[${i}] must be 32-byte lowercase hex`);
    return Buffer.from(k, 'hex');
  });
  const bad = await checker.check(keys);
  if (bad) throw new ProtocolError('invalid-roll', `roll[${bad.index}] is not an acceptable credential: ${bad.problem}`);
  const sorted = keys.slice().sort(Buffer.compare);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.equals(sorted[i - 1]!)) throw new ProtocolError('invalid-roll', `key ${sorted[i]!.toString('hex')} repeats in the roll`);
  }
  return sorted;
}

async function insertKeys(tx: TransactionSql, electionId: string, keys: readonly Buffer[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK).map((k) => k.toString('hex'));
    const r = await tx`INSERT INTO credentials (election_id, credential)
                       SELECT ${electionId}, decode(k, 'hex') FROM unnest(${chunk}::text[]) AS k
                       ON CONFLICT DO NOTHING`;
    added += r.count;
  }
  return added;
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === '23505';
}

/**
 * Create an election in one transaction. With `sortedKeys` the roll is frozen at once (rollRoot set);
 * with `pending` the keys given are a first part and the roll stays open for uploads and finalize.
 * Re-sending the same creation (same manifest, same roll) answers the original outcome with `existed`;
 * another election under the same id is `election-exists`.
 */
export async function createElection(sql: Sql, manifest: Manifest, sortedKeys: readonly Buffer[], pending: boolean): Promise<CreatedElection & { existed: boolean }> {
  const mh = hashManifest(manifest).toString('hex');
  const root = pending ? null : computeRollRoot(sortedKeys).toString('hex');
  try {
    await sql.begin(async (tx) => {
      await tx`INSERT INTO elections (election_id, manifest, manifest_hash, opens_at, closes_at, window_seconds)
               VALUES (${manifest.electionId}, ${jcs(manifest)}, ${Buffer.from(mh, 'hex')}, ${manifest.opensAt}, ${manifest.closesAt}, ${manifest.windowSeconds})`;
      await tx`INSERT INTO election_heads (election_id) VALUES (${manifest.electionId})`;
      const added = await insertKeys(tx, manifest.electionId, sortedKeys);
      if (pending) await tx`INSERT INTO roll_uploads (election_id, added) VALUES (${manifest.electionId}, ${added})`;
      if (root !== null) await tx`UPDATE elections SET roll_root = ${Buffer.from(root, 'hex')}, roll_size = ${sortedKeys.length} WHERE election_id = ${manifest.electionId}`;
    });
    return { electionId: manifest.electionId, manifestHash: mh, rollRoot: root, rollSize: sortedKeys.length, existed: false };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const existing = await getElection(sql, manifest.electionId);
    if (existing && existing.manifestHash === mh && existing.rollRoot === root && (root !== null || pending)) {
      const rollSize = existing.rollRoot === null ? await loadedRollSize(sql, existing.electionId) : existing.rollSize;
      return { electionId: existing.electionId, manifestHash: mh, rollRoot: existing.rollRoot, rollSize, existed: true };
    }
    throw new ProtocolError('election-exists', `an election ${manifest.electionId} already exists with another manifest or roll`);
  }
}

/** Split a byte stream into lines without holding more than one line and one chunk. */
async function* lines(stream: Readable): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + (chunk as Buffer).toString('utf8');
    const parts = text.split('\n');
    rest = parts.pop()!;
    if (rest.length > 1024) throw new ProtocolError('invalid-roll', 'a roll line is longer than 1024 characters');
    yield* parts;
  }
  if (rest.length > 0) yield rest;
}

export interface RollUpload {
  electionId: string;
  /** Keys in this upload. */
  received: number;
  /** Keys new to the roll (the others were already there: a retried upload adds nothing). */
  added: number;
  rollSize: number;
}

/**
 * Add the keys of an NDJSON stream (one JSON string of 32-byte hex per line) to a roll that is not yet
 * finalized, in one transaction: the whole upload is added or none of it. Memory stays bounded (one batch
 * validated in the worker threads while the previous one is written). A key repeated within the upload is
 * refused (invalid-roll); a key already on the roll from an earlier upload is skipped (idempotent retry).
 */
export async function uploadRoll(sql: Sql, electionId: string, body: Readable, checker: CredentialCheckPool): Promise<RollUpload> {
  return sql.begin(async (tx) => {
    // FOR SHARE: concurrent uploads proceed together; finalize (FOR UPDATE) waits until they commit, so no
    // key can land after the root is computed.
    const [e] = await tx`SELECT roll_root FROM elections WHERE election_id = ${electionId} FOR SHARE`;
    if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    if (e.roll_root) throw new ProtocolError('roll-frozen', `the roll of ${electionId} is finalized`);
    await tx`CREATE TEMPORARY TABLE roll_upload (credential bytea PRIMARY KEY) ON COMMIT DROP`;

    let received = 0;
    let lineNo = 0;
    let batch: Buffer[] = [];
    let writing: Promise<unknown> = Promise.resolve();
    const flush = async (keys: Buffer[], firstLine: number) => {
      const bad = await checker.check(keys);
      if (bad) throw new ProtocolError('invalid-roll', `line ${firstLine + bad.index}: not an acceptable credential: ${bad.problem}`);
      await writing;
      const hex = keys.map((k) => k.toString('hex'));
      writing = tx`INSERT INTO roll_upload SELECT decode(k, 'hex') FROM unnest(${hex}::text[]) AS k ON CONFLICT DO NOTHING RETURNING encode(credential, 'hex') AS k`.then((rows) => {
        if (rows.length === hex.length) return;
        const inserted = new Set(rows.map((r) => r.k as string));
        const repeated = hex.find((k) => !inserted.has(k)) ?? hex.find((k, i) => hex.indexOf(k) !== i);
        throw new ProtocolError('invalid-roll', `key ${repeated} repeats in the upload`);
      });
      // Surface a failed write on the next flush, not as an unhandled rejection.
      writing.catch(() => {});
    };
    let batchFirstLine = 1;
    for await (const raw of lines(body)) {
      lineNo++;
      const line = raw.trim();
      if (line === '') continue;
      let key: unknown;
      try {
        key = JSON.parse(line);
      } catch {
        throw new ProtocolError('invalid-roll', `line ${lineNo} is not JSON`);
      }
      if (!isHex(key, 32)) throw new ProtocolError('invalid-roll', `line ${lineNo} must be a JSON string of 32-byte lowercase hex`);
      if (batch.length === 0) batchFirstLine = lineNo;
      batch.push(Buffer.from(key, 'hex'));
      received++;
      if (batch.length === CHUNK) {
        await flush(batch, batchFirstLine);
        batch = [];
      }
    }
    if (batch.length > 0) await flush(batch, batchFirstLine);
    await writing;
    const r = await tx`INSERT INTO credentials (election_id, credential) SELECT ${electionId}, credential FROM roll_upload ON CONFLICT DO NOTHING`;
    await tx`INSERT INTO roll_uploads (election_id, added) VALUES (${electionId}, ${r.count})`;
    return { electionId, received, added: r.count, rollSize: await loadedRollSize(tx, electionId) };
  }) as Promise<RollUpload>;
}

/**
 * Keys on a roll that is still loading, from the uploads' own counts (migration 0005): a few rows, where
 * counting the roll would scan it. Each upload adds exactly the keys its INSERT added, and it is
 * recorded in the upload's transaction, so the sum is the roll as committed.
 */
export async function loadedRollSize(sql: Sql | TransactionSql, electionId: string): Promise<number> {
  const [r] = await sql`SELECT coalesce(sum(added), 0)::bigint AS n FROM roll_uploads WHERE election_id = ${electionId}`;
  return Number(r!.n);
}

/** Freeze the roll: rollRoot over all keys (streamed in sorted order). Idempotent. */
export async function finalizeElectionRoll(sql: Sql, electionId: string): Promise<CreatedElection> {
  const e = await getElection(sql, electionId);
  if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
  const { rollRoot, rollSize } = await finalizeRoll(sql, electionId);
  return { electionId, manifestHash: e.manifestHash, rollRoot, rollSize };
}

export interface CloseState {
  election: ElectionRecord;
  /** Ballots committed: the tally must count seqs 0 .. nextSeq-1, no more can come. */
  nextSeq: number;
  resultHash: string | null;
  totalBallots: number | null;
}

/**
 * Close under the head-row lock. Every ingest transaction takes that lock and re-reads `closed`, so once
 * this commits no ballot can get in, on any API process, and next_seq is the final count.
 */
export async function markClosed(sql: Sql, electionId: string): Promise<CloseState> {
  const election = await getElection(sql, electionId);
  if (!election) throw new ProtocolError('unknown-election', `no election ${electionId}`);
  if (election.rollRoot === null) throw new ProtocolError('roll-pending', `the roll of ${electionId} is not finalized; there is nothing to close`);
  return sql.begin(async (tx) => {
    const [h] = await tx`SELECT next_seq, closed FROM election_heads WHERE election_id = ${electionId} FOR UPDATE`;
    if (!h!.closed) await tx`UPDATE election_heads SET closed = true WHERE election_id = ${electionId}`;
    const [e] = await tx`UPDATE elections SET close_requested_at = coalesce(close_requested_at, now()) WHERE election_id = ${electionId}
                         RETURNING result_hash, total_ballots`;
    return {
      election: { ...election, closed: true },
      nextSeq: Number(h!.next_seq),
      resultHash: e!.result_hash ? (e!.result_hash as Buffer).toString('hex') : null,
      totalBallots: e!.total_ballots == null ? null : Number(e!.total_ballots),
    };
  }) as Promise<CloseState>;
}

/** Store the final result once (another process may have raced us: the stored one wins). */
export async function storeResult(sql: Sql, electionId: string, resultHash: string, totalBallots: number): Promise<{ resultHash: string; totalBallots: number }> {
  await sql`UPDATE elections SET result_hash = ${Buffer.from(resultHash, 'hex')}, total_ballots = ${totalBallots}
            WHERE election_id = ${electionId} AND result_hash IS NULL`;
  const [e] = await sql`SELECT result_hash, total_ballots FROM elections WHERE election_id = ${electionId}`;
  return { resultHash: (e!.result_hash as Buffer).toString('hex'), totalBallots: Number(e!.total_ballots) };
}
