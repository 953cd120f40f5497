// Anchor, for an election of several shards (docs/protocol.md 13.4): the shard windows sealed since the
// last interval become the next interval (formInterval, in the ledger), and each interval the chain lacks is
// sent as one anchorInterval, confirmed and recorded (the interval and its windows at once). Fault points:
// after-anchor-send, after-anchor-mined, after-anchor-record, as for windows. Intervals the chain has and
// the ledger has not recorded (a crash after the send) are checked against the ledger's and recorded from
// their IntervalAnchored events.
import {
  electionShardCount,
  formInterval,
  intervalsFrom,
  propagateIntervalAnchors,
  recordIntervalAnchor,
} from '../../../ledger/src/index.js';
import { ChainUnavailableError } from '../errors.js';
import { withReconcilePasses } from './reconcile.js';
import type { StepContext } from './context.js';

/** Anchor every sealed shard window of a registered sharded election not yet anchored, as intervals. */
export function anchorIntervals(ctx: StepContext, electionId: string): Promise<void> {
  return withReconcilePasses(ctx, electionId, 'interval', () => intervalPass(ctx, electionId), {
    TallyAnchorElectionAnchorsWindows: {
      reconcileCase: 'mode-differs',
      message: 'the chain anchors this election by windows, not intervals',
    },
  });
}

async function intervalPass(ctx: StepContext, electionId: string): Promise<void> {
  // No transaction of ours may be in flight while we compare: it could land after the comparison.
  await ctx.chain.settle();
  const shardSql = ctx.clusters.shardSql(await electionShardCount(ctx.sql, electionId));
  // Windows of intervals recorded as anchored that do not carry the anchor yet (a crash between the two).
  await propagateIntervalAnchors(ctx.sql, electionId, shardSql);
  const intervals = await intervalsFrom(ctx.sql, electionId);
  const recorded = intervals.filter((i) => i.anchorTx !== null).length;
  if (intervals.slice(0, recorded).some((i) => i.anchorTx === null))
    throw new Error(`election ${electionId}: anchored intervals are not a prefix of the formed ones`);
  const chainCount = await ctx.chain.intervalCount(electionId);
  if (chainCount < recorded)
    throw ctx.diverge(
      electionId,
      'chain-lost',
      `the ledger recorded ${recorded} anchored intervals but the chain has ${chainCount}`,
    );
  if (chainCount > intervals.length)
    throw ctx.diverge(
      electionId,
      'chain-ahead',
      `the chain has ${chainCount} intervals but the ledger formed ${intervals.length}`,
    );

  // On chain but not recorded (a crash after the send): the same interval, then record it.
  for (let i = recorded; i < chainCount; i++) {
    const mine = intervals[i]!;
    const theirs = await ctx.chain.getInterval(electionId, i);
    if (
      !theirs ||
      theirs.root !== mine.root ||
      theirs.windowCount !== mine.windowCount ||
      theirs.ballotCount !== mine.ballotCount
    )
      throw ctx.diverge(
        electionId,
        'interval-differs',
        `interval ${i} on chain (${JSON.stringify(theirs)}) is not the ledger's (root ${mine.root}, ` +
          `${mine.windowCount} windows, ${mine.ballotCount} ballots)`,
      );
    const ev = await ctx.chain.findIntervalAnchored(electionId, i, 0);
    if (!ev)
      throw new ChainUnavailableError(
        `election ${electionId}: interval ${i} is on chain but its IntervalAnchored event is not visible yet`,
      );
    await recordIntervalAnchor(ctx.sql, electionId, i, ev, shardSql);
    mine.anchorTx = ev.txHash;
    ctx.log('interval anchored earlier, recorded from the chain', { electionId, interval: i, txHash: ev.txHash });
  }

  // The formed intervals the chain lacks, in order; then the windows sealed since, gathered into the next
  // interval, until none waits.
  const formedUnsent = intervals.filter((i) => i.anchorTx === null);
  for (
    let interval = formedUnsent.shift() ?? (await formInterval(ctx.sql, electionId, { shardSql }));
    interval !== null && interval !== undefined;
    interval = formedUnsent.shift() ?? (await formInterval(ctx.sql, electionId, { shardSql }))
  ) {
    const sent = await ctx.chain.sendAnchorInterval(electionId, interval);
    ctx.faults.hit('after-anchor-send');
    const done = await ctx.chain.waitForConfirmation(sent, ctx.confirmations);
    ctx.faults.hit('after-anchor-mined');
    await recordIntervalAnchor(ctx.sql, electionId, interval.index, done, shardSql);
    ctx.faults.hit('after-anchor-record');
    const gasUsed = Number(done.gasUsed);
    ctx.log('interval anchored', {
      electionId,
      interval: interval.index,
      windows: interval.windowCount,
      ballots: interval.ballotCount,
      txHash: done.txHash,
      blockNumber: done.blockNumber,
      gasUsed,
    });
    ctx.emit({
      type: 'interval-anchored',
      electionId,
      interval: interval.index,
      windows: interval.windowCount,
      ballots: interval.ballotCount,
      txHash: done.txHash,
      blockNumber: done.blockNumber,
      gasUsed,
    });
  }
}
