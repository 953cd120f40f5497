// The worker's error kinds. Everything but AnchorDivergenceError is retried: the job again with backoff,
// and the periodic reconcile regardless. A divergence halts the election instead (README, "Reconcile").

/**
 * The chain and the ledger disagree in a way no retry can fix (a window root that differs, windows on
 * chain the ledger never sealed, anchored windows missing from the chain). The election is halted in this
 * worker; nothing more is sent for it until an operator has looked and restarted the worker.
 */
export class AnchorDivergenceError extends Error {
  override readonly name = 'AnchorDivergenceError';
  constructor(
    readonly electionId: string,
    readonly reconcileCase: string,
    message: string,
  ) {
    super(`election ${electionId}: ${message} [${reconcileCase}]`);
  }
}

/** The chain node did not answer, timed out, or lost a transaction; try again later. */
export class ChainUnavailableError extends Error {
  override readonly name = 'ChainUnavailableError';
}

/** The contract refused a call (estimateGas or a mined revert). The chain moved: reconcile again. */
export class ChainRevertError extends Error {
  override readonly name = 'ChainRevertError';
  constructor(
    message: string,
    readonly errorName: string | null,
    readonly errorArgs: readonly unknown[] = [],
  ) {
    super(message);
  }
}

/** Another worker holds the anchorer lock of this account or election; its pass does the work. */
export class AnchorerBusyError extends Error {
  override readonly name = 'AnchorerBusyError';
}

export { errorMessage } from '../../jobs/src/index.js';
