// Seal: the ballots committed since the last window become the next window (ledger only, no anchorer lock:
// sealWindow is safe against concurrent sealers). Fault points: before-seal-commit, after-seal-commit.
import { electionShardCount, sealWindow, type SealedWindow } from '../../../ledger/src/index.js';
import type { StepContext } from './context.js';

/**
 * Seal the election's waiting ballots into a window, each shard's into its own (docs/protocol.md 13.2);
 * resolves with the last window sealed, null when none was waiting.
 */
export async function sealStep(ctx: StepContext, electionId: string): Promise<SealedWindow | null> {
  const shards = await electionShardCount(ctx.sql, electionId);
  let last: SealedWindow | null = null;
  for (let shard = 0; shard < shards; shard++) last = (await sealShard(ctx, electionId, shard, shards)) ?? last;
  return last;
}

async function sealShard(
  ctx: StepContext,
  electionId: string,
  shard: number,
  shards: number,
): Promise<SealedWindow | null> {
  let timings = { hashMs: 0, tilesMs: 0, lockedMs: 0 };
  const w = await sealWindow(ctx.clusters.sqlFor(shard, shards), electionId, {
    shard,
    beforeCommit: () => ctx.faults.hit('before-seal-commit'),
    onTimings: (t) => (timings = t),
  });
  if (w) {
    ctx.faults.hit('after-seal-commit');
    ctx.log('window sealed', {
      electionId,
      ...(shard === 0 ? {} : { shard }),
      window: w.index,
      firstSeq: w.firstSeq,
      count: w.count,
      root: w.root,
      hashMs: Math.round(timings.hashMs),
      tilesMs: Math.round(timings.tilesMs),
      lockedMs: Math.round(timings.lockedMs),
    });
    ctx.emit({ type: 'sealed', electionId, window: w.index, firstSeq: w.firstSeq, count: w.count });
  }
  return w;
}
