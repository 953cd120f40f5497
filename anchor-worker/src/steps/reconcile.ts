// Reconcile: every chain step starts by comparing the ledger with the chain and naming the case, as
// sunlight's LoadLog does (anchor-worker/README.md, "Reconcile: the cases"). A crash, a lost job or a
// second worker then only ever costs a repeat of a step; a shape no step can repair halts the election.
import { windowAt } from '../../../ledger/src/index.js';
import { ChainRevertError } from '../errors.js';
import type { StepContext } from './context.js';

/** Passes over the chain per anchor step: a pass that loses a race to another writer starts over. */
const RECONCILE_PASSES = 3;

/**
 * How the ledger's windows compare with the chain's (sunlight's LoadLog, one case per shape):
 *
 *  - `equal`         chain windowCount = windows recorded as anchored = windows sealed: nothing to do.
 *  - `chain-behind`  recorded <= windowCount < sealed, or windowCount > recorded: windows recorded..count-1
 *                    are on chain but not in the ledger (a crash after the send) and are recorded from
 *                    their WindowAnchored events once their range and root are checked; windows
 *                    count..sealed-1 are sent, in order.
 *  - `chain-ahead`   windowCount > sealed: the chain has windows the ledger never sealed (another
 *                    writer, or a ledger restored from an old backup). Fatal.
 *  - `chain-lost`    windowCount < recorded: windows the ledger saw confirmed are gone (wrong contract,
 *                    chain reset). Fatal.
 * Each window taken from the chain must match the ledger's range and root, else `root-differs`. Fatal.
 */
export type WindowPlan =
  | { kind: 'equal' }
  | { kind: 'chain-behind'; recordFrom: number; recordTo: number; sendFrom: number; sendTo: number }
  | { kind: 'chain-ahead'; message: string }
  | { kind: 'chain-lost'; message: string };

export function planWindows(ledger: { sealed: number; recorded: number }, chainCount: number): WindowPlan {
  const { sealed, recorded } = ledger;
  if (chainCount > sealed) {
    return { kind: 'chain-ahead', message: `the chain has ${chainCount} windows but the ledger sealed only ${sealed}` };
  }
  if (chainCount < recorded) {
    return {
      kind: 'chain-lost',
      message:
        `the ledger recorded ${recorded} windows as anchored but the chain has only ${chainCount} ` +
        '(wrong contract or chain reset?)',
    };
  }
  if (chainCount === sealed && recorded === sealed) return { kind: 'equal' };
  return { kind: 'chain-behind', recordFrom: recorded, recordTo: chainCount, sendFrom: chainCount, sendTo: sealed };
}

/** The chain's window `index` must have the ledger's range and root; else the election halts. */
export async function checkWindowOnChain(ctx: StepContext, electionId: string, index: number): Promise<void> {
  const w = (await windowAt(ctx.sql, electionId, index))!;
  const onChain = await ctx.chain.getWindow(electionId, index);
  if (!onChain) throw ctx.diverge(electionId, 'chain-lost', `window ${index} is missing on chain`);
  if (onChain.firstSeq !== w.firstSeq || onChain.count !== w.count || onChain.root !== w.root) {
    throw ctx.diverge(
      electionId,
      'root-differs',
      `window ${index} on chain is seqs ${onChain.firstSeq}+${onChain.count} ` +
        `with root ${onChain.root}, the ledger sealed seqs ${w.firstSeq}+${w.count} with root ${w.root}`,
    );
  }
}

/**
 * Runs an anchor pass, again when the contract refused a write: the chain moved under us (another writer,
 * or our own earlier transaction mined late), so compare again; the next pass names the case. Refusals
 * that no new pass can mend halt the election: the chain closed it, lost its registration, or (`halting`)
 * a refusal the caller names. `what` names the step in the log.
 */
export async function withReconcilePasses(
  ctx: StepContext,
  electionId: string,
  what: string,
  pass: () => Promise<void>,
  halting: Record<string, { reconcileCase: string; message: string }> = {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await pass();
      return;
    } catch (err) {
      if (!(err instanceof ChainRevertError) || attempt >= RECONCILE_PASSES) throw err;
      if (err.errorName === 'TallyAnchorElectionAlreadyClosed') {
        throw ctx.diverge(
          electionId,
          'closed-on-chain',
          `the chain closed the election but the ledger has windows to anchor: ${err.message}`,
        );
      }
      if (err.errorName === 'TallyAnchorElectionNotRegistered') {
        throw ctx.diverge(
          electionId,
          'registration-lost',
          `the ledger recorded a registration but the chain has none: ${err.message}`,
        );
      }
      const halt = err.errorName !== null && Object.hasOwn(halting, err.errorName) ? halting[err.errorName] : undefined;
      if (halt) throw ctx.diverge(electionId, halt.reconcileCase, `${halt.message}: ${err.message}`);
      ctx.log(`${what} refused by the contract, reconciling again`, { level: 'warn', electionId, error: err.message });
    }
  }
}
