// Worker thread of bench/verify.ts's encrypted audit, measuring side: the proof checks alone, the
// ceiling the audit is compared against. Started as a plain worker (not a pool) so that each thread
// first receives and parses its share of the ballots, untimed ("load"), then checks them when told
// ("go"): every point decoded and checked a group element, every scalar canonical, every choice's and
// contest's disjunctive proof verified — checkBallotV2, exactly what the audit runs per ballot, without
// the JSON, the hashing, the signature, the aggregate and the rest of the audit.
import { parentPort, workerData } from 'node:worker_threads';
import { checkBallotV2, type BallotV2Context } from '../../verifier-cli/src/v2/ballot.js';

const { context } = workerData as { context: BallotV2Context; sodiumNative: string };
let ballots: unknown[] = [];

parentPort!.on('message', (m: { load?: string[]; go?: true }) => {
  if (m.load !== undefined) {
    ballots = m.load.map((text) => JSON.parse(text) as unknown);
    parentPort!.postMessage('loaded');
    return;
  }
  let valid = 0;
  for (const ballot of ballots) if (checkBallotV2(ballot, context).ok) valid++;
  parentPort!.postMessage(valid);
});
