// Seal: the ballots committed since the last window become the next window (ledger only, no anchorer lock:
// sealWindow is safe against concurrent sealers). Fault points: before-seal-commit, after-seal-commit.
import { sealWindow, type SealedWindow } from '../../../ledger/src/index.js';
import type { StepContext } from './context.js';

/** Seal the election's waiting ballots into a window; resolves null when none is waiting. */
export async function sealStep(ctx: StepContext, electionId: string): Promise<SealedWindow | null> {
  let timings = { hashMs: 0, lockedMs: 0 };
  const w = await sealWindow(ctx.sql, electionId, {
    beforeCommit: () => ctx.faults.hit('before-seal-commit'),
    onTimings: (t) => (timings = t),
  });
  if (w) {
    ctx.faults.hit('after-seal-commit');
    ctx.log('window sealed', {
      electionId,
      window: w.index,
      firstSeq: w.firstSeq,
      count: w.count,
      root: w.root,
      hashMs: Math.round(timings.hashMs),
      lockedMs: Math.round(timings.lockedMs),
    });
    ctx.emit({ type: 'sealed', electionId, window: w.index, firstSeq: w.firstSeq, count: w.count });
  }
  return w;
}
