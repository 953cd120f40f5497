// The credential roll: the one roll validator, streamed uploads to a roll that is still loading, and
// freezing it with its rollRoot. A frozen roll never changes (the credentials_frozen trigger).
import type { Sql } from 'postgres';
import { isHex } from '../protocol/hash.js';
import { MerkleRootBuilder } from '../protocol/merkle.js';
import { ProtocolError } from '../protocol/errors.js';
import { credentialProblem } from '../protocol/protocol.js';
import { loadedRollSize } from './read.js';

/** Checks raw 32-byte keys: null when all are acceptable, else the first bad key's index and why. */
export interface CredentialChecker {
  check(keys: readonly Buffer[]): Promise<{ index: number; problem: string } | null>;
}

/** Checks keys on the calling thread (tests, tools, small rolls); the API uses CredentialCheckPool. */
export const inlineCredentialChecker: CredentialChecker = {
  async check(keys) {
    for (let i = 0; i < keys.length; i++) {
      const problem = credentialProblem(keys[i]!);
      if (problem) return { index: i, problem };
    }
    return null;
  },
};

/**
 * The one roll validator: hex keys → raw keys, checked (format, curve, repeats) and sorted bytewise, the
 * order rollRoot is computed over. Refuses with ProtocolError 'invalid-roll' naming the offending index
 * or key.
 */
export async function validateRoll(
  roll: readonly unknown[],
  checker: CredentialChecker = inlineCredentialChecker,
): Promise<Buffer[]> {
  const keys = roll.map((k, i) => {
    if (!isHex(k, 32)) throw new ProtocolError('invalid-roll', `roll[${i}] must be 32-byte lowercase hex`);
    return Buffer.from(k, 'hex');
  });
  const bad = await checker.check(keys);
  if (bad)
    throw new ProtocolError('invalid-roll', `roll[${bad.index}] is not an acceptable credential: ${bad.problem}`);
  const sorted = keys.slice().sort(Buffer.compare);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.equals(sorted[i - 1]!)) {
      throw new ProtocolError('invalid-roll', `key ${sorted[i]!.toString('hex')} repeats in the roll`);
    }
  }
  return sorted;
}

/** A batch of an upload: raw keys (format already checked) and the line number of the first. */
export interface RollChunk {
  keys: Buffer[];
  firstLine: number;
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
 * Add an upload's keys to a roll that is not yet finalized, in one transaction: resolves once the whole
 * upload is committed; on any refusal none of it is. Each chunk is checked by `checker` (in worker
 * threads in the API) while the previous one is written, so memory stays at about two chunks. A key
 * repeated within the upload is refused (invalid-roll); a key already on the roll from an earlier upload
 * is skipped (idempotent retry). Refuses unknown-election, roll-frozen, invalid-roll; a chunk source that
 * throws aborts the upload with its error.
 */
export async function appendRollChunks(
  sql: Sql,
  electionId: string,
  chunks: AsyncIterable<RollChunk>,
  checker: CredentialChecker,
): Promise<RollUpload> {
  return sql.begin(async (tx) => {
    // FOR SHARE: concurrent uploads proceed together; finalize (FOR UPDATE) waits until they commit, so no
    // key can land after the root is computed.
    const [e] = await tx`SELECT roll_root FROM elections WHERE election_id = ${electionId} FOR SHARE`;
    if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    if (e.roll_root) throw new ProtocolError('roll-frozen', `the roll of ${electionId} is finalized`);
    await tx`CREATE TEMPORARY TABLE roll_upload (credential bytea PRIMARY KEY) ON COMMIT DROP`;

    let received = 0;
    let writing: Promise<unknown> = Promise.resolve();
    for await (const { keys, firstLine } of chunks) {
      received += keys.length;
      const bad = await checker.check(keys);
      if (bad) {
        throw new ProtocolError(
          'invalid-roll',
          `line ${firstLine + bad.index}: not an acceptable credential: ${bad.problem}`,
        );
      }
      await writing;
      const hex = keys.map((k) => k.toString('hex'));
      writing = tx`INSERT INTO roll_upload SELECT decode(k, 'hex') FROM unnest(${hex}::text[]) AS k
                   ON CONFLICT DO NOTHING RETURNING encode(credential, 'hex') AS k`.then((rows) => {
        if (rows.length === hex.length) return;
        const inserted = new Set(rows.map((r) => r.k as string));
        const repeated = hex.find((k) => !inserted.has(k)) ?? hex.find((k, i) => hex.indexOf(k) !== i);
        throw new ProtocolError('invalid-roll', `key ${repeated} repeats in the upload`);
      });
      // Surface a failed write on the next chunk, not as an unhandled rejection.
      writing.catch(() => {});
    }
    await writing;
    const r = await tx`INSERT INTO credentials (election_id, credential)
                       SELECT ${electionId}, credential FROM roll_upload ON CONFLICT DO NOTHING`;
    await tx`INSERT INTO roll_uploads (election_id, added) VALUES (${electionId}, ${r.count})`;
    return { electionId, received, added: r.count, rollSize: await loadedRollSize(tx, electionId) };
  }) as Promise<RollUpload>;
}

/**
 * Freeze the roll: rollRoot over the whole roll (sorted bytewise, streamed in O(log n) memory), stored
 * with its size. Idempotent: a frozen roll answers its stored root. Refuses unknown-election.
 */
export async function finalizeRoll(sql: Sql, electionId: string): Promise<{ rollRoot: string; rollSize: number }> {
  return sql.begin(async (tx) => {
    const [e] = await tx`SELECT roll_root, roll_size FROM elections WHERE election_id = ${electionId} FOR UPDATE`;
    if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    if (e.roll_root) return { rollRoot: (e.roll_root as Buffer).toString('hex'), rollSize: Number(e.roll_size) };
    const builder = new MerkleRootBuilder();
    // bytea orders bytewise (memcmp), which is the order rollRoot is defined over.
    await tx`SELECT credential FROM credentials WHERE election_id = ${electionId} ORDER BY credential`.cursor(
      10_000,
      (rows) => {
        for (const r of rows) builder.push(r.credential as Buffer);
      },
    );
    const root = builder.root();
    await tx`UPDATE elections SET roll_root = ${root}, roll_size = ${builder.size} WHERE election_id = ${electionId}`;
    return { rollRoot: root.toString('hex'), rollSize: builder.size };
  }) as Promise<{ rollRoot: string; rollSize: number }>;
}
