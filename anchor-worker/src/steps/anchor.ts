// Anchor: every sealed window the chain lacks, in index order, send → confirm → record (fault points
// after-anchor-send, after-anchor-mined, after-anchor-record). Windows the chain has and the ledger has
// not recorded (a crash after the send) are checked and recorded from their WindowAnchored events.
import {
  anchoredWindowCount,
  anchoringState,
  electionShardCount,
  recordAnchor,
  windowsFrom,
} from '../../../ledger/src/index.js';
import { anchorIntervals } from './intervals.js';
import { ChainUnavailableError } from '../errors.js';
import type { StepContext } from './context.js';
import { checkWindowOnChain, planWindows, withReconcilePasses } from './reconcile.js';

/**
 * Anchor what is sealed and not yet anchored: an election of one shard window by window, a sharded one by
 * intervals (steps/intervals.ts).
 */
export async function anchorSealed(ctx: StepContext, electionId: string): Promise<void> {
  if ((await electionShardCount(ctx.sql, electionId)) > 1) return anchorIntervals(ctx, electionId);
  return anchorWindows(ctx, electionId);
}

/** Anchor every sealed window of a registered election not yet anchored, in order. */
export function anchorWindows(ctx: StepContext, electionId: string): Promise<void> {
  return withReconcilePasses(ctx, electionId, 'anchor', () => anchorPass(ctx, electionId));
}

async function anchorPass(ctx: StepContext, electionId: string): Promise<void> {
  // No transaction of ours may be in flight while we compare: it could land after the comparison.
  await ctx.chain.settle();
  const e = await anchoringState(ctx.sql, electionId);
  const recorded = await anchoredWindowCount(ctx.sql, electionId);
  const chainCount = await ctx.chain.windowCount(electionId);
  const plan = planWindows({ sealed: e.sealedWindows, recorded }, chainCount);
  if (plan.kind === 'chain-ahead' || plan.kind === 'chain-lost') throw ctx.diverge(electionId, plan.kind, plan.message);
  if (recorded > 0) await checkWindowOnChain(ctx, electionId, recorded - 1); // the newest recorded window still stands
  if (plan.kind === 'equal') return;

  const windows = await windowsFrom(ctx.sql, electionId, plan.recordFrom);
  if (windows.some((w) => w.anchorTx !== null))
    throw new Error(`election ${electionId}: anchored windows are not a prefix of the sealed ones`);
  const byIndex = new Map(
    windows.map((w) => [w.index, { index: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root }]),
  );

  for (let i = plan.recordFrom; i < plan.recordTo; i++) {
    const w = byIndex.get(i)!;
    await checkWindowOnChain(ctx, electionId, i);
    const ev = await ctx.chain.findWindowAnchored(electionId, i, e.registrationBlock ?? 0);
    if (!ev)
      throw new ChainUnavailableError(
        `election ${electionId}: window ${i} is on chain but its WindowAnchored event is not visible yet`,
      );
    await recordAnchor(ctx.sql, electionId, w.index, ev);
    ctx.log('window anchored earlier, recorded from the chain', {
      electionId,
      window: i,
      case: 'chain-behind/record',
      txHash: ev.txHash,
    });
    ctx.emit({
      type: 'anchored',
      electionId,
      window: i,
      txHash: ev.txHash,
      blockNumber: ev.blockNumber,
      recovered: true,
    });
  }
  for (let i = plan.sendFrom; i < plan.sendTo; i++) {
    const w = byIndex.get(i)!;
    const sent = await ctx.chain.sendAnchorWindow(electionId, w);
    ctx.faults.hit('after-anchor-send');
    const done = await ctx.chain.waitForConfirmation(sent, ctx.confirmations);
    ctx.faults.hit('after-anchor-mined');
    await recordAnchor(ctx.sql, electionId, w.index, done);
    ctx.faults.hit('after-anchor-record');
    const gasUsed = Number(done.gasUsed);
    ctx.log('window anchored', {
      electionId,
      window: i,
      firstSeq: w.firstSeq,
      count: w.count,
      txHash: done.txHash,
      blockNumber: done.blockNumber,
      gasUsed,
    });
    ctx.emit({
      type: 'anchored',
      electionId,
      window: i,
      txHash: done.txHash,
      blockNumber: done.blockNumber,
      recovered: false,
      gasUsed,
    });
  }
}
