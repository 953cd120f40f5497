// Worker thread of bench/lib/encrypted-ballots.ts, for the encrypted ingest bench: one ballot per credential
// of a range, either encrypted, proved and signed (encryptBallot, the server's own core: generation costs
// about as much as verification, so it is spread over the cores and done before any timing), or (for the
// run that skips the proofs) a template ballot's ciphertexts under the credential, signed, which costs a
// signature only: its proofs are not this credential's, and no proof is checked in that run.
import { keyPairFromSeed, signMessage } from '../../ledger/src/protocol/ed25519.js';
import {
  type EncryptedBallot,
  type EncryptedElectionContext,
  encryptBallot,
  encryptedBallotMessage,
} from '../../ledger/src/protocol/v2/ballot.js';
import { credentialSeedFor } from './encrypted-seeds.js';

export type EncryptTask =
  | { op: 'encrypt'; context: EncryptedElectionContext; from: number; to: number }
  | { op: 'resign'; electionId: string; template: EncryptedBallot; from: number; to: number };

/** One line per credential: its hex, a tab, the submission's JSON. */
export default function ballotRange(task: EncryptTask): string {
  const lines: string[] = [];
  for (let i = task.from; i < task.to; i++) {
    if (task.op === 'encrypt') {
      const { context } = task;
      const contest = context.manifest.contests[0]!;
      const seed = credentialSeedFor(context.manifest.electionId, i);
      const choice = contest.choices[i % contest.choices.length]!.id;
      const { submission } = encryptBallot(context, seed, { [contest.id]: [choice] });
      lines.push(`${submission.ballot.credential}\t${JSON.stringify(submission)}`);
    } else {
      const keys = keyPairFromSeed(credentialSeedFor(task.electionId, i));
      const credential = keys.publicKey.toString('hex');
      const ballot: EncryptedBallot = { ...task.template, electionId: task.electionId, credential };
      const signature = signMessage(keys.privateKeyObject, encryptedBallotMessage(ballot)).toString('hex');
      lines.push(`${credential}\t${JSON.stringify({ ballot, signature })}`);
    }
  }
  return lines.join('\n');
}
