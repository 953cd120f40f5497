// Worker thread of ProofPool (../proof-pool.ts): the validity rule of an encrypted ballot without its
// signature (docs/protocol.md 12.4; protocol/v2 encryptedBallotProblem), with libsodium (sodium-native,
// which loads in worker threads). ~2.5–3.5 ms per ballot of 3 choices: never on the main thread.
// A task is one election's context and the JCS texts of its ballots (already shape-checked by
// parseEncryptedSubmission on the main thread); the reply one verdict per ballot, null when valid.
import { workerData } from 'node:worker_threads';
import { dieMidTask, testFaultIn, testFaultsOn } from '../../../worker-pool/src/test-faults.js';
import {
  type BallotProblem,
  type EncryptedBallot,
  type EncryptedElectionContext,
  encryptedBallotProblem,
} from '../protocol/v2/ballot.js';

export interface ProofTask {
  context: EncryptedElectionContext;
  /** JCS of each ballot (the `ballot` member of the submission). */
  ballots: string[];
}

const testFaults = testFaultsOn(workerData);

export default function handle(task: ProofTask): (BallotProblem | null)[] | Promise<never> {
  const out: (BallotProblem | null)[] = [];
  for (const text of task.ballots) {
    const fault = testFaults ? testFaultIn(Buffer.from(text)) : null;
    if (fault !== null) return dieMidTask(fault);
    out.push(encryptedBallotProblem(task.context, JSON.parse(text) as EncryptedBallot));
  }
  return out;
}
