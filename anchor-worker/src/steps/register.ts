// Register: registerElection once the roll is frozen, send → confirm → record. After a crash between the
// send and the record, the registration is found on chain, checked against the ledger, and recorded from
// its ElectionRegistered event. Fault point: after-register-send.
import { anchoringState, recordRegistration } from '../../../ledger/src/index.js';
import type { ChainEvent, ConfirmedTx } from '../chain.js';
import { ChainUnavailableError } from '../errors.js';
import type { StepContext } from './context.js';

/** Resolves true once the registration is recorded, false while the roll is still open. */
export async function ensureRegistered(ctx: StepContext, electionId: string): Promise<boolean> {
  const e = await anchoringState(ctx.sql, electionId);
  if (e.registrationTx) return true;
  if (!e.rollRoot) return false;
  await ctx.chain.settle();
  const onChain = await ctx.chain.getElection(electionId);
  let done: ConfirmedTx | ChainEvent;
  if (onChain) {
    // Registered by an earlier run that died before recording it (or by another writer): adopt it
    // only if it says what the ledger says.
    if (onChain.manifestHash !== e.manifestHash || onChain.rollRoot !== e.rollRoot) {
      throw ctx.diverge(
        electionId,
        'registration-differs',
        `registered on chain with manifestHash ${onChain.manifestHash} ` +
          `and rollRoot ${onChain.rollRoot}, the ledger has ${e.manifestHash} and ${e.rollRoot}`,
      );
    }
    const ev = await ctx.chain.findElectionRegistered(electionId);
    if (!ev) {
      throw new ChainUnavailableError(
        `election ${electionId}: registered on chain but its ElectionRegistered event is not visible yet`,
      );
    }
    ctx.log('registration found on chain, recording it', { electionId, case: 'chain-equal', txHash: ev.txHash });
    done = ev;
  } else {
    const sent = await ctx.chain.sendRegisterElection(electionId, e.manifestHash, e.rollRoot);
    ctx.faults.hit('after-register-send');
    done = await ctx.chain.waitForConfirmation(sent, ctx.confirmations);
  }
  await recordRegistration(ctx.sql, electionId, done);
  ctx.log('election registered on chain', { electionId, txHash: done.txHash, blockNumber: done.blockNumber });
  ctx.emit({ type: 'registered', electionId, txHash: done.txHash, recovered: onChain !== null });
  return true;
}
