// Close: head closed → seal until empty → anchor every window → the one recount, kept before the send (so
// a restart closes with the very same result) → closeElection on chain → record. After a crash between
// the send and the record, the close is found on chain, checked, and recorded from its ElectionClosed
// event. Fault point: after-close-send.
// An encrypted election (docs/protocol.md 12.5) has no recount: after the last anchor its aggregate is
// published, and the step returns until the trustees have decrypted it; the reconcile pass runs it again
// once the decryption is stored, and the decrypted result goes on chain the same way.
import {
  anchoringState,
  closeElection,
  closeEncryptedElection,
  closeHeadOnClusters,
  shardHeadsOnClusters,
  recordClose,
} from '../../../ledger/src/index.js';
import type { ChainEvent, ConfirmedTx } from '../chain.js';
import { ChainUnavailableError } from '../errors.js';
import { anchorSealed } from './anchor.js';
import type { StepContext } from './context.js';
import { ensureRegistered } from './register.js';
import { sealStep } from './seal.js';

/** Resolves once close_tx is recorded. Runs inside the anchorer's exclusive lane. */
export async function closeStep(ctx: StepContext, electionId: string): Promise<void> {
  let e = await anchoringState(ctx.sql, electionId);
  if (e.closeTx) return;
  // Waits for any ingest transaction in flight (the head-row lock); after it no ballot can commit.
  if (!e.closed || ctx.clusters.count > 1) await closeHeadOnClusters(ctx.clusters, electionId);
  while (await sealStep(ctx, electionId));
  if (!(await ensureRegistered(ctx, electionId))) {
    throw new Error(`election ${electionId}: cannot close before its roll is frozen and registered`);
  }
  await anchorSealed(ctx, electionId);
  e = await anchoringState(ctx.sql, electionId);
  if (ctx.clusters.count > 1 && e.shards > 1) {
    // Each shard's head moves on its own cluster: the sums come from there.
    const heads = await shardHeadsOnClusters(ctx.clusters, electionId, e.shards);
    e = {
      ...e,
      nextSeq: heads.reduce((n, h) => n + h.nextSeq, 0),
      sealedThrough: heads.reduce((n, h) => n + h.sealedThrough, 0),
    };
  }
  if (e.sealedThrough !== e.nextSeq)
    throw new Error(`election ${electionId}: ballots ${e.sealedThrough}..${e.nextSeq - 1} are not sealed yet`);

  // The recount through the closed head, stored write-once; a stored result that differs means the
  // ballots changed after close. Encrypted: the decrypted result, recombined from the board.
  const taken = await takeResult(ctx, electionId, e.encryption !== null);
  if (taken === null) return;
  const { recount, stored } = taken;
  if (stored.resultHash !== recount.resultHash || stored.totalBallots !== recount.totalBallots) {
    throw ctx.diverge(
      electionId,
      'result-changed',
      `the stored result hash ${stored.resultHash} (${stored.totalBallots} ballots) ` +
        `differs from the recount ${recount.resultHash} (${recount.totalBallots} ballots); ` +
        'the ballots changed after close',
    );
  }
  const { resultHash: hash, totalBallots } = recount;

  await ctx.chain.settle();
  const onChain = await ctx.chain.getElection(electionId);
  if (!onChain)
    throw ctx.diverge(electionId, 'registration-lost', 'the ledger recorded a registration but the chain has none');
  let done: ConfirmedTx | ChainEvent;
  if (onChain.closed) {
    if (onChain.resultHash !== hash || onChain.totalBallots !== totalBallots) {
      throw ctx.diverge(
        electionId,
        'close-differs',
        `closed on chain with resultHash ${onChain.resultHash} ` +
          `(${onChain.totalBallots} ballots), the ledger's result is ${hash} (${totalBallots} ballots)`,
      );
    }
    const ev = await ctx.chain.findElectionClosed(electionId, e.registrationBlock ?? 0);
    if (!ev)
      throw new ChainUnavailableError(
        `election ${electionId}: closed on chain but its ElectionClosed event is not visible yet`,
      );
    ctx.log('close found on chain, recording it', { electionId, case: 'chain-equal', txHash: ev.txHash });
    done = ev;
  } else {
    const sent = await ctx.chain.sendCloseElection(electionId, hash, totalBallots);
    ctx.faults.hit('after-close-send');
    done = await ctx.chain.waitForConfirmation(sent, ctx.confirmations);
  }
  await recordClose(ctx.sql, electionId, done);
  ctx.log('election closed on chain', {
    electionId,
    txHash: done.txHash,
    blockNumber: done.blockNumber,
    resultHash: hash,
    totalBallots,
  });
  ctx.emit({ type: 'closed', electionId, txHash: done.txHash, recovered: onChain.closed });
}

interface TakenResult {
  stored: { resultHash: string; totalBallots: number };
  recount: { resultHash: string; totalBallots: number };
}

/** The result to put on chain, or null while an encrypted election waits for its trustees. */
async function takeResult(ctx: StepContext, electionId: string, encrypted: boolean): Promise<TakenResult | null> {
  if (!encrypted) return closeElection(ctx.sql, electionId, ctx.clusters);
  const c = await closeEncryptedElection(ctx.sql, electionId);
  if (c.status === 'waiting') {
    ctx.log('aggregate published; the close waits for the trustees to decrypt it', {
      electionId,
      aggregateHash: c.aggregateHash,
      totalBallots: c.nextSeq,
    });
    return null;
  }
  if (!c.recount)
    throw ctx.diverge(
      electionId,
      'result-changed',
      `a decrypted result ${c.stored!.resultHash} is stored, but the board's partial decryptions no longer ` +
        'recombine into one: the ledger changed after the decryption',
    );
  return { stored: c.stored!, recount: c.recount };
}
