// Encrypted elections for the ingest tests (docs/protocol.md section 12): a version 2 manifest with three
// trustees (threshold 2) of fixed seeds, and its key ceremony run with the core's functions and posted to
// the board as the trustees' operator would (by default postTrusteeMessage, the board's one entry; the API
// tests post over HTTP), so the election record carries its election key H and takes ballots.
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { expect } from 'vitest';
import { postTrusteeMessage } from '../../src/encrypted/board.js';
import { keyPairFromSeed } from '../../src/protocol/ed25519.js';
import { type Contest, type Manifest, manifestHash } from '../../src/protocol/protocol.js';
import type { EncryptedElectionContext } from '../../src/protocol/v2/ballot.js';
import * as v2 from '../../src/protocol/v2/index.js';
import { testManifest } from '../../../test/support/fixtures.js';

export const TRUSTEE_IDS = ['t1', 't2', 't3'];
const trusteeSeed = (id: string) => createHash('sha256').update(`tallyproof test trustee ${id}`).digest();

/** One contest of `n` choices c0, c1, …, at most `max` selected. */
export function wideContest(id: string, n: number, max = 1): Contest {
  const choices = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, label: `Choice ${i}` }));
  return { id, title: `Contest ${id}`, choices, minSelections: 0, maxSelections: max };
}

/** The test manifest's shape (open now) as an encrypted election: version 2, three trustees, threshold 2. */
export function encryptedManifest(electionId: string, ledgerKey: string, contests?: Contest[]): Manifest {
  const trustees = TRUSTEE_IDS.map((id) => ({ id, key: keyPairFromSeed(trusteeSeed(id)).publicKey.toString('hex') }));
  const v2Fields = { version: 2, ballotMode: 'encrypted', trustees, threshold: 2, ...(contests ? { contests } : {}) };
  return testManifest(electionId, ledgerKey, v2Fields as unknown as Partial<Manifest>);
}

/** Posts a trustee envelope to the election's board; throws unless it was accepted. */
export type PostTrusteeEnvelope = (envelope: v2.TrusteeEnvelope) => Promise<void>;

/** The board's own entry, on a ledger connection. */
export const postToBoard =
  (sql: Sql, electionId: string): PostTrusteeEnvelope =>
  async (envelope) => {
    const outcome = await postTrusteeMessage(sql, electionId, envelope);
    expect(outcome.kind, JSON.stringify(outcome)).toBe('accepted');
  };

/**
 * Run the key ceremony of `manifest`'s election (already created), each message sent with `send`;
 * resolves with the context its ballots are encrypted and checked in (H included).
 */
export async function completeKeyCeremony(
  send: PostTrusteeEnvelope,
  manifest: Manifest,
): Promise<EncryptedElectionContext> {
  const mh = manifestHash(manifest).toString('hex');
  const rng = v2.seededScalars(`ceremony ${manifest.electionId}`);
  const accepted: v2.TrusteeEnvelope[] = [];
  const post = async (message: v2.TrusteeMessage, id: string) => {
    const envelope = v2.signTrusteeMessage(trusteeSeed(id), message);
    await send(envelope);
    accepted.push(envelope);
  };
  const secrets: v2.TrusteeSecrets[] = [];
  for (const id of TRUSTEE_IDS) {
    const { message, secrets: s } = v2.makeKeygenCommit(manifest, mh, id, rng);
    await post(message, id);
    secrets.push(s);
  }
  const commits = v2.commitsOf(accepted);
  for (const [i, id] of TRUSTEE_IDS.entries())
    await post(v2.makeKeygenShares(manifest, mh, id, secrets[i]!, commits, rng), id);
  const shares = accepted.filter((e) => e.message.kind === 'keygen-shares').map((e) => e.message as v2.KeygenShares);
  for (const [i, id] of TRUSTEE_IDS.entries())
    await post(v2.makeKeygenConfirm(manifest, mh, id, secrets[i]!, commits, shares).message, id);
  const publicKey = v2.electionPublicKey(manifest, accepted);
  if (!publicKey) throw new Error('the key ceremony did not complete');
  return { manifest, manifestHash: mh, publicKey };
}
