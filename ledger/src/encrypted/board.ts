// The trustees' bulletin board (docs/protocol.md 12.3, 12.5, 12.7): what a posted trustee message does to
// the ledger, and the public transcript. The rule itself is the core's pure boardDecision; this module
// runs it under the election row's lock against what the board holds, and stores its outcome: the
// accepted envelope, the refusal (public when a trustee signed the message), the election key once every
// trustee has confirmed it, and the decrypted result once the threshold of partial decryptions is in.
import type { Sql, TransactionSql } from 'postgres';
import { jcs } from '../protocol/jcs.js';
import { ProtocolError, type ErrorCode } from '../protocol/errors.js';
import { strictVerify } from '../protocol/ed25519.js';
import type { Manifest } from '../protocol/protocol.js';
import {
  type Aggregate,
  boardDecision,
  ceremonyComplete,
  ceremonyKeys,
  combineDecryptions,
  commitsOf,
  type DecryptionResult,
  decryptedResultHash,
  type TrusteeEnvelope,
  type TrusteeMessageKind,
  trusteeEnvelopeShapeProblem,
  trusteeMessageBytes,
} from '../protocol/v2/index.js';
import { auditText, insertRefusals } from '../ingest/refusals.js';

/** What a post did: accepted (new), a byte-identical repeat of an accepted message, or refused. */
export type TrusteePostOutcome =
  | {
      kind: 'accepted' | 'repeat';
      /** The message's kind. */
      accepted: TrusteeMessageKind;
      trustee: string;
      keyCeremony: 'in-progress' | 'complete';
      /** True when this post completed the decryption (the result is now stored). */
      decrypted: boolean;
    }
  | {
      kind: 'refused';
      code: Extract<
        ErrorCode,
        'invalid-body' | 'bad-signature' | 'ceremony-phase' | 'trustee-message-exists' | 'invalid-proof'
      >;
      message: string;
      /** True when the refusal is on the public record (trustee_refusals): a trustee signed the message. */
      recorded: boolean;
    };

/** A refused post of a trustee-signed message, as the transcript shows it. */
export interface TrusteeRefusal {
  trustee: string;
  kind: TrusteeMessageKind;
  code: string;
  message: string;
  receivedAt: string;
}

/** The public transcript of 12.7. */
export interface TrusteeTranscript {
  electionId: string;
  threshold: number;
  trustees: { id: string; key: string }[];
  publicKey: string | null;
  verificationKeys: Record<string, string> | null;
  keyCeremony: 'in-progress' | 'complete';
  /** Accepted envelopes, in the order posted. */
  messages: TrusteeEnvelope[];
  refused: TrusteeRefusal[];
}

/** A plaintext election has no trustees: the board's routes answer 404 for it. */
export function plaintextElection(electionId: string): ProtocolError {
  return new ProtocolError('not-found', `election ${electionId} has plaintext ballots: it has no trustees`);
}

/** What the board holds for one election, read under its row lock. */
interface Board {
  manifest: Manifest;
  manifestHash: string;
  accepted: TrusteeEnvelope[];
  aggregate: Aggregate | null;
  decrypted: boolean;
}

/**
 * Locks the election row (FOR NO KEY UPDATE: posts of one election, and the aggregate's publication, run
 * one at a time; ballots' foreign-key checks are not blocked) and reads the board. Null: no election.
 */
export async function lockBoard(tx: TransactionSql, electionId: string): Promise<Board | null> {
  const [e] = await tx`SELECT manifest, manifest_hash FROM elections WHERE election_id = ${electionId}
                       FOR NO KEY UPDATE`;
  if (!e) return null;
  const [messages, aggregates, decryptions] = await Promise.all([
    tx`SELECT envelope FROM trustee_messages WHERE election_id = ${electionId} ORDER BY position`,
    tx`SELECT aggregate FROM aggregates WHERE election_id = ${electionId}`,
    tx`SELECT 1 AS one FROM decryptions WHERE election_id = ${electionId}`,
  ]);
  return {
    manifest: JSON.parse(e.manifest as string) as Manifest,
    manifestHash: (e.manifest_hash as Buffer).toString('hex'),
    accepted: messages.map((m) => JSON.parse(m.envelope as string) as TrusteeEnvelope),
    aggregate: aggregates[0] ? (JSON.parse(aggregates[0].aggregate as string) as Aggregate) : null,
    decrypted: decryptions.length > 0,
  };
}

/**
 * Stores the decrypted result write-once, and with it the election's result (result_hash, total_ballots,
 * write-once too: the hash closeElection anchors). Runs inside the transaction holding the board's lock.
 */
export async function storeDecryption(tx: TransactionSql, electionId: string, result: DecryptionResult): Promise<void> {
  const hash = Buffer.from(decryptedResultHash(result), 'hex');
  await tx`INSERT INTO decryptions (election_id, result, result_hash) VALUES (${electionId}, ${jcs(result)}, ${hash})
           ON CONFLICT (election_id) DO NOTHING`;
  await tx`UPDATE elections SET result_hash = ${hash}, total_ballots = ${result.totalBallots}
           WHERE election_id = ${electionId} AND result_hash IS NULL`;
}

/** The trustee whose key signed this message for this election, or null (not even a trustee's message). */
function signingTrustee(board: Board, input: unknown): string | null {
  if (trusteeEnvelopeShapeProblem(input) !== null) return null;
  const env = input as TrusteeEnvelope;
  const m = env.message;
  if (m.electionId !== board.manifest.electionId || m.manifestHash !== board.manifestHash) return null;
  const trustee = (board.manifest.trustees ?? []).find((t) => t.id === m.trustee);
  if (!trustee) return null;
  const problem = strictVerify(
    Buffer.from(trustee.key, 'hex'),
    trusteeMessageBytes(m),
    Buffer.from(env.signature, 'hex'),
  );
  return problem === null ? trustee.id : null;
}

/**
 * Post one trustee envelope (the body as parsed, never rewritten) to the board of `electionId`. Under the
 * election row's lock: the accepted messages and the aggregate are read, the core's boardDecision decides,
 * and its outcome is stored in the same transaction. Accepted: appended at the next position; the
 * keygen-confirm that completes the ceremony also stores the election key (from then on the election
 * takes ballots); the decrypt that brings the valid partial decryptions to the threshold also stores the
 * result (decryptions, and the election's result_hash). Refused: a message signed by one of the
 * election's trustees goes on the public record (trustee_refusals); any other is counted under `client`
 * like a refused ballot. Resolves once committed. ProtocolError 'unknown-election' for no election,
 * 'not-found' for a plaintext one.
 */
export async function postTrusteeMessage(
  sql: Sql,
  electionId: string,
  body: unknown,
  client: string | null = null,
): Promise<TrusteePostOutcome> {
  return (await sql.begin(async (tx) => {
    const board = await lockBoard(tx, electionId);
    if (!board) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    if (board.manifest.version !== 2) throw plaintextElection(electionId);
    const decision = boardDecision(
      {
        manifest: board.manifest,
        manifestHash: board.manifestHash,
        accepted: board.accepted,
        aggregate: board.aggregate,
      },
      body,
    );
    if (decision.kind === 'refuse') {
      const trustee = signingTrustee(board, body);
      const message = auditText(decision.message, 1000);
      if (trustee !== null) {
        const kind = (body as TrusteeEnvelope).message.kind;
        await tx`INSERT INTO trustee_refusals (election_id, trustee, kind, code, message)
                 VALUES (${electionId}, ${trustee}, ${kind}, ${decision.code}, ${message})`;
      } else {
        await insertRefusals(tx, [
          { electionId, credHex: null, client, hashHex: null, code: decision.code, detail: auditText(message, 300) },
        ]);
      }
      return { kind: 'refused', code: decision.code, message: decision.message, recorded: trustee !== null };
    }
    const env = body as TrusteeEnvelope;
    const { trustee, kind } = env.message;
    if (decision.kind === 'repeat') {
      const complete = ceremonyComplete(board.manifest, board.accepted);
      return {
        kind: 'repeat',
        accepted: kind,
        trustee,
        keyCeremony: complete ? 'complete' : 'in-progress',
        decrypted: false,
      };
    }
    const accepted = [...board.accepted, env];
    await tx`INSERT INTO trustee_messages (election_id, position, trustee, kind, envelope)
             VALUES (${electionId}, ${board.accepted.length}, ${trustee}, ${kind}, ${jcs(env)})`;
    const complete = ceremonyComplete(board.manifest, accepted);
    if (kind === 'keygen-confirm' && complete) {
      const keys = ceremonyKeys(board.manifest, commitsOf(accepted));
      await tx`INSERT INTO election_keys (election_id, public_key, verification_keys)
               VALUES (${electionId}, ${Buffer.from(keys.publicKey, 'hex')}, ${jcs(keys.verificationKeys)})
               ON CONFLICT (election_id) DO NOTHING`;
    }
    let decrypted = false;
    if (kind === 'decrypt' && !board.decrypted && board.aggregate) {
      const result = combineDecryptions(board.manifest, board.manifestHash, accepted, board.aggregate);
      if (result) {
        await storeDecryption(tx, electionId, result);
        decrypted = true;
      }
    }
    return {
      kind: 'accepted',
      accepted: kind,
      trustee,
      keyCeremony: complete ? 'complete' : 'in-progress',
      decrypted,
    };
  })) as TrusteePostOutcome;
}

/**
 * The public transcript of 12.7, read in one snapshot: the trustees, the election key and verification
 * keys once the ceremony is complete (null before), every accepted envelope in the order posted, and every
 * refusal of a trustee-signed message. ProtocolError 'unknown-election' / 'not-found' (plaintext).
 */
export async function trusteeTranscript(sql: Sql, electionId: string): Promise<TrusteeTranscript> {
  return (await sql.begin('isolation level repeatable read read only', async (tx) => {
    const [e] = await tx`SELECT manifest FROM elections WHERE election_id = ${electionId}`;
    if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    const manifest = JSON.parse(e.manifest as string) as Manifest;
    if (manifest.version !== 2) throw plaintextElection(electionId);
    const [messages, refusals, keys] = await Promise.all([
      tx`SELECT envelope FROM trustee_messages WHERE election_id = ${electionId} ORDER BY position`,
      tx`SELECT trustee, kind, code, message, received_at FROM trustee_refusals
         WHERE election_id = ${electionId} ORDER BY id`,
      tx`SELECT encode(public_key, 'hex') AS public_key, verification_keys FROM election_keys
         WHERE election_id = ${electionId}`,
    ]);
    const key = keys[0];
    return {
      electionId,
      threshold: manifest.threshold ?? 0,
      trustees: (manifest.trustees ?? []).map((t) => ({ id: t.id, key: t.key })),
      publicKey: key ? (key.public_key as string) : null,
      verificationKeys: key ? (JSON.parse(key.verification_keys as string) as Record<string, string>) : null,
      keyCeremony: key ? 'complete' : 'in-progress',
      messages: messages.map((m) => JSON.parse(m.envelope as string) as TrusteeEnvelope),
      refused: refusals.map((r) => ({
        trustee: r.trustee as string,
        kind: r.kind as TrusteeMessageKind,
        code: r.code as string,
        message: r.message as string,
        receivedAt: (r.received_at as Date).toISOString(),
      })),
    };
  })) as TrusteeTranscript;
}
