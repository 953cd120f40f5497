// Step 5 of the audit (audit.ts): what only the whole ledger shows, once every row is in: gaps in the
// seqs and the ballot count the chain anchored, every window's root, rows in no anchored window, the
// roll's root against the chain's, late anchors, roll keys no verified signature proved to be curve
// points, the published results against the recount and, after the close, the chain's totalBallots and
// resultHash. In an election of several shards, the seqs, windows and unanchored rows of each shard in turn.
import type { ChainElection } from '../chain.js';
import { finding, type Finding } from '../errors.js';
import { short, toHex } from '../hex.js';
import type { ScanState } from './ledger-scan.js';
import type { RowCheckPool } from './pool.js';
import { compareClose, compareResults } from './tally.js';
import type { EncryptedAudit } from '../v2/audit-v2.js';
import { counted } from '../plural.js';

/** Step 5: the checks that need the whole ledger, their findings appended to `findings` in this order. */
export async function checkWholeLedger(
  scan: ScanState,
  registration: ChainElection,
  pool: RowCheckPool,
  electionId: string,
  findings: Finding[],
  encrypted?: EncryptedAudit,
): Promise<void> {
  const { roll, published, recount } = scan.inputs;
  const sharded = scan.shards.length > 1;
  for (const [shard, { seq, windows }] of scan.shards.entries()) {
    // One shard: the chain's count of anchored ballots; several: where the shard's last anchored window ends.
    findings.push(...seq.finish(sharded ? windows.anchoredEnd : registration.anchoredBallots));
    findings.push(...windows.finish());
    findings.push(...(await windows.locateChanges())); // with --tiles: the seqs that differ from the saved tiles
    if (windows.unanchoredRows > 0) {
      const first = windows.firstUnanchoredSeq;
      const unanchored = counted(windows.unanchoredRows, 'ballot');
      const are = windows.unanchoredRows === 1 ? 'is' : 'are';
      const of = sharded ? ` of shard ${shard}` : '';
      findings.push(
        finding(
          'unanchored',
          registration.closed
            ? `${unanchored}${of} from seq ${first} on ${are} in no anchored window, and the ` + `election is closed`
            : `${unanchored}${of} from seq ${first} on ${are} not anchored yet (the election is open)`,
          sharded ? { shard, seq: first } : { seq: first },
          registration.closed ? 'error' : 'warning',
        ),
      );
    }
  }
  const computedRollRoot = toHex(await scan.inputs.rollRoot);
  if (computedRollRoot !== registration.rollRoot) {
    findings.push(
      finding(
        'roll-root-mismatch',
        `the roll of ${counted(roll.keys.size, 'key')} has root ${short(computedRollRoot)}, the chain registered ` +
          `${short(registration.rollRoot)}`,
      ),
    );
  }
  findings.push(...scan.late);
  // Roll keys not proven to be curve points by a verified signature are decoded now.
  const unproven: string[] = [];
  for (const [key, index] of roll.keys) if (scan.verifiedRollKeys[index] === 0) unproven.push(key);
  for (const message of await pool.checkRollPoints(unproven)) findings.push(finding('roll-invalid', message));
  // An encrypted election: the aggregate, the decryption and the decrypted counts instead of the recount.
  if (encrypted !== undefined) {
    findings.push(...(await encrypted.finish(scan, registration, electionId)));
    return;
  }
  if (published !== null)
    findings.push(...compareResults(published, electionId, recount, sharded ? registration.closed : undefined));
  if (registration.closed) findings.push(...compareClose(registration, electionId, recount, scan.rows));
}
