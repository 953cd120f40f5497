// Creating an election: manifest, head row and roll (whole, or a first part of a roll left open for
// streamed uploads), in one transaction. The one createElection: the API, npm start, tests and benches
// all call it.
import type { Sql, TransactionSql } from 'postgres';
import { jcs } from '../protocol/jcs.js';
import { ProtocolError } from '../protocol/errors.js';
import { manifestHash, rollRoot, type Manifest } from '../protocol/protocol.js';
import { shardCount } from '../protocol/shards.js';
import { getElection, loadedRollSize } from './read.js';

/** Keys per INSERT. */
const INSERT_CHUNK = 10_000;

export interface CreatedElection {
  electionId: string;
  manifestHash: string;
  rollRoot: string | null;
  rollSize: number;
  /** True when this exact election was already there (a repeated creation): nothing was written. */
  existed: boolean;
}

/** Adds the keys not on the roll yet (in chunks); resolves with how many were added. */
export async function insertKeys(tx: TransactionSql, electionId: string, keys: readonly Buffer[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < keys.length; i += INSERT_CHUNK) {
    const chunk = keys.slice(i, i + INSERT_CHUNK).map((k) => k.toString('hex'));
    const r = await tx`INSERT INTO credentials (election_id, credential)
                       SELECT ${electionId}, decode(k, 'hex') FROM unnest(${chunk}::text[]) AS k
                       ON CONFLICT DO NOTHING`;
    added += r.count;
  }
  return added;
}

/**
 * Create an election in one transaction; resolves once it is committed. `sortedKeys` must come from
 * validateRoll. Without `pending` the roll is frozen at once (rollRoot set); with it the keys given are a
 * first part and the roll stays open for appendRollChunks and finalizeRoll. Re-sending the same creation
 * (same manifest, same roll) answers the original with `existed: true`; another election under the same
 * id is refused with 'election-exists'.
 */
export async function createElection(
  sql: Sql,
  manifest: Manifest,
  sortedKeys: readonly Buffer[],
  opts: { pending?: boolean } = {},
): Promise<CreatedElection> {
  const pending = opts.pending === true;
  const mh = manifestHash(manifest).toString('hex');
  const root = pending ? null : rollRoot(sortedKeys).toString('hex');
  const id = manifest.electionId;
  try {
    await sql.begin(async (tx) => {
      const shards = shardCount(manifest);
      await tx`INSERT INTO elections (election_id, manifest, manifest_hash, opens_at, closes_at, window_seconds, shards)
               VALUES (${id}, ${jcs(manifest)}, ${Buffer.from(mh, 'hex')}, ${manifest.opensAt}, ${manifest.closesAt},
                       ${manifest.windowSeconds}, ${shards})`;
      // One head per shard (docs/protocol.md 13.2): each its own gap-free sequence.
      await tx`INSERT INTO election_heads (election_id, shard) SELECT ${id}, generate_series(0, ${shards - 1}::int)`;
      const added = await insertKeys(tx, id, sortedKeys);
      if (pending) await tx`INSERT INTO roll_uploads (election_id, added) VALUES (${id}, ${added})`;
      if (root !== null) {
        await tx`UPDATE elections SET roll_root = ${Buffer.from(root, 'hex')}, roll_size = ${sortedKeys.length}
                 WHERE election_id = ${id}`;
      }
    });
    return { electionId: id, manifestHash: mh, rollRoot: root, rollSize: sortedKeys.length, existed: false };
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err; // unique violation: the id is taken
    const existing = await getElection(sql, id);
    if (existing && existing.manifestHash === mh && existing.rollRoot === root && (root !== null || pending)) {
      const rollSize = existing.rollRoot === null ? await loadedRollSize(sql, id) : existing.rollSize;
      return { electionId: id, manifestHash: mh, rollRoot: existing.rollRoot, rollSize, existed: true };
    }
    throw new ProtocolError('election-exists', `an election ${id} already exists with another manifest or roll`);
  }
}
