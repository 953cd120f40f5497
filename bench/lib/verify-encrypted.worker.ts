// Worker thread of bench/verify.ts's encrypted audit, generation side (a WorkerPool task): the ballots of a
// range of voters, encrypted, proved and signed by the verifier's test prover (verifier-cli/test/v2-support,
// on the verifier's group code), one JSON line per ballot, with the sums of their ciphertexts (the range's
// share of the aggregate). Generating costs about as much as checking, so it is spread over the cores
// and done once, before any timing (bench/verify.ts caches the result).
import { CIPHERTEXT_BYTES } from '../../verifier-cli/src/v2/ballot.js';
import { emptySums } from '../../verifier-cli/src/v2/aggregate.js';
import { addInto, decodeElement } from '../../verifier-cli/src/v2/group.js';
import { makeVoter } from '../../verifier-cli/test/support/election.js';
import {
  castEncryptedBallot,
  selectionsFor,
  type TestManifestV2,
} from '../../verifier-cli/test/v2-support/election.js';

export interface GenerateTask {
  manifest: TestManifestV2;
  publicKey: string;
  from: number;
  to: number;
}

export interface GenerateResult {
  /** One {"seq","ballotHash","ballotText","signature","credential"} per line. */
  lines: string;
  /** α || β per choice, summed over the range. */
  sums: Uint8Array;
}

/** The voter of bench index i (node:crypto signing: the same credential every run). */
export const benchVoter = (electionId: string, i: number) => makeVoter(`${electionId}-${i}`, 'node');

export default function generate(task: GenerateTask): GenerateResult {
  const { manifest } = task;
  const publicKey = decodeElement(task.publicKey);
  if (publicKey === null) throw new Error('the bench election key is not a group element');
  const choices = manifest.contests.reduce((n, c) => n + c.choices.length, 0);
  const sums = emptySums(choices);
  const lines: string[] = [];
  for (let i = task.from; i < task.to; i++) {
    const voter = benchVoter(manifest.electionId, i);
    const row = castEncryptedBallot(voter, manifest, publicKey, selectionsFor(i, manifest.contests), i);
    let flat = 0;
    for (const c of manifest.contests) {
      for (const choice of row.ballot.contests[c.id]!.choices) {
        addInto(sums, flat * CIPHERTEXT_BYTES, Buffer.from(choice.alpha, 'hex'), 0);
        addInto(sums, flat * CIPHERTEXT_BYTES + 32, Buffer.from(choice.beta, 'hex'), 0);
        flat++;
      }
    }
    lines.push(
      JSON.stringify({
        seq: i,
        ballotHash: row.ballotHash,
        ballotText: row.ballotText,
        signature: row.signature,
        credential: voter.credential,
      }),
    );
  }
  return { lines: lines.join('\n'), sums };
}
