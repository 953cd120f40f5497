// Receipts: the ledger key's signature over what the ledger promises about a stored ballot. Ed25519 is
// deterministic, so a receipt is re-signed when asked for again, never stored.
import type { KeyObject } from 'node:crypto';
import type { Sql } from 'postgres';
import { receiptMessage, signReceipt, type Receipt, type ReceiptBody } from '../protocol/protocol.js';
import type { VerifyPool } from '../verify-pool.js';
import type { StoredBallot } from './decide.js';

export function receiptBody(electionId: string, ballot: StoredBallot): ReceiptBody {
  const { seq, hashHex, receivedAt, shard } = ballot;
  return shard === undefined
    ? { version: 1, electionId, seq, ballotHash: hashHex, receivedAt }
    : { version: 1, electionId, shard, seq, ballotHash: hashHex, receivedAt };
}

/**
 * Sign receipts with the ledger key: in the worker pool when it holds the key (signing costs a third of a
 * verification), else here. A pool that fails (a worker died) is replaced by signing here, rather than
 * failing ballots that are committed.
 */
export async function signReceipts(
  bodies: readonly ReceiptBody[],
  ledgerKey: { privateKey: KeyObject },
  pool: VerifyPool,
): Promise<Receipt[]> {
  if (bodies.length === 0) return [];
  if (!pool.canSign) return bodies.map((b) => signReceipt(ledgerKey.privateKey, b));
  const sigs = await pool
    .sign(bodies.map(receiptMessage))
    .catch(() => bodies.map((b) => Buffer.from(signReceipt(ledgerKey.privateKey, b).signature, 'hex')));
  return bodies.map((b, i) => ({ ...b, signature: sigs[i]!.toString('hex') }));
}

/** The original receipt of a stored ballot, by its hash (null when no ballot has that hash). */
export async function receiptFor(
  sql: Sql,
  ledgerKey: { privateKey: KeyObject },
  ballotHashHex: string,
): Promise<Receipt | null> {
  const [r] = await sql`SELECT b.election_id, b.shard, b.seq, b.received_at, e.shards FROM ballots b
                        JOIN elections e ON e.election_id = b.election_id
                        WHERE b.ballot_hash = decode(${ballotHashHex}, 'hex')`;
  return r ? receiptFromRow(ledgerKey, r, ballotHashHex) : null;
}

/** A receipt re-signed from a ballot row's election_id, shard, seq, received_at and its election's shards. */
export function receiptFromRow(
  ledgerKey: { privateKey: KeyObject },
  r: Record<string, unknown>,
  ballotHashHex: string,
): Receipt {
  return signReceipt(
    ledgerKey.privateKey,
    receiptBody(r.election_id as string, {
      ...(Number(r.shards) > 1 ? { shard: Number(r.shard) } : {}),
      seq: Number(r.seq),
      hashHex: ballotHashHex,
      receivedAt: (r.received_at as Date).toISOString(),
    }),
  );
}
