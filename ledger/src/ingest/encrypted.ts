// What the ingest needs to know of encrypted elections (docs/protocol.md section 12): which bodies are
// version 2 submissions, and the context their proofs are checked in (manifest, its hash and the election
// key H), which exists only once the key ceremony is complete.
import type { ElectionRecord } from '../elections/read.js';
import type { EncryptedElectionContext } from '../protocol/v2/ballot.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether a parsed body claims to be a version 2 submission (`ballot.version` is 2): then it is parsed
 * and checked as one, and any other body as version 1, whose parser says what is wrong with it.
 */
export function isEncryptedBody(body: unknown): boolean {
  return isObject(body) && isObject(body.ballot) && body.ballot.version === 2;
}

const contexts = new WeakMap<ElectionRecord, EncryptedElectionContext | null>();

/**
 * The context an encrypted election's ballots are checked in, or null: a plaintext election, or an
 * encrypted one whose key ceremony is not complete (no election key yet). Built once per election record
 * (the ingest's election cache keeps a record for a second), so the proof pool sees one object per
 * election and batches its ballots together.
 */
export function encryptionContextOf(election: ElectionRecord): EncryptedElectionContext | null {
  let context = contexts.get(election);
  if (context === undefined) {
    const publicKey = election.manifest.version === 2 ? electionKeyOf(election) : null;
    context =
      publicKey === null ? null : { manifest: election.manifest, manifestHash: election.manifestHash, publicKey };
    contexts.set(election, context);
  }
  return context;
}

/** The election key H of a complete key ceremony (the election record's `encryption`), else null. */
function electionKeyOf(election: ElectionRecord): string | null {
  const { encryption } = election;
  return encryption !== null && encryption.keyCeremony === 'complete' ? encryption.publicKey : null;
}
