// The worker's steps, each idempotent and safe to cut short at any instant, one file each under steps/:
// seal, register, anchor the sealed windows, close. Every chain step starts by comparing the ledger with
// the chain and naming the case (steps/reconcile.ts), and runs alone under the anchorer locks
// (steps/context.ts), so a crash, a lost job or a second worker only ever costs a repeat of a step.
import type { SealedWindow } from '../../ledger/src/index.js';
import { anchoringProgress, lastUnanchoredWindowOnClusters } from '../../ledger/src/index.js';
import type { AnchorDivergenceError } from './errors.js';
import { anchorSealed } from './steps/anchor.js';
import { closeStep } from './steps/close.js';
import { StepContext, type AnchorerOptions } from './steps/context.js';
import { ensureRegistered } from './steps/register.js';
import { sealStep } from './steps/seal.js';

export { ACCOUNT_LOCK_CLASS, ELECTION_LOCK_CLASS, type AnchorEvent, type AnchorerOptions } from './steps/context.js';
export { planWindows, type WindowPlan } from './steps/reconcile.js';
export type { Logger } from '../../jobs/src/index.js';

export class Anchorer {
  private readonly ctx: StepContext;

  constructor(o: AnchorerOptions) {
    this.ctx = new StepContext(o);
  }

  /** Elections stopped by a divergence; cleared only by a restart. */
  get halted(): ReadonlyMap<string, AnchorDivergenceError> {
    return this.ctx.halted;
  }

  /** Seal the waiting ballots into the next window (no chain work, no anchorer lock). */
  seal(electionId: string): Promise<SealedWindow | null> {
    return sealStep(this.ctx, electionId);
  }

  /**
   * The highest sealed window not yet anchored, or null (a sharded election: a number growing with every
   * window sealed, over every cluster; ledger's lastUnanchoredWindow).
   */
  lastUnanchoredWindow(electionId: string): Promise<number | null> {
    return lastUnanchoredWindowOnClusters(this.ctx.clusters, electionId);
  }

  /** registerElection once the roll is frozen. Resolves false while the roll is still open. */
  register(electionId: string): Promise<boolean> {
    return this.ctx.exclusive(electionId, () => ensureRegistered(this.ctx, electionId));
  }

  /** Anchor every sealed window of the election not yet anchored, in order. */
  anchorPending(electionId: string): Promise<void> {
    return this.ctx.exclusive(electionId, async () => {
      if (!(await ensureRegistered(this.ctx, electionId))) return;
      await anchorSealed(this.ctx, electionId);
    });
  }

  /**
   * Close: the head is closed (no ballot can commit any more), the last window is sealed, every window
   * anchored, the result recounted and kept, then closeElection. Resolves once close_tx is recorded.
   */
  close(electionId: string): Promise<void> {
    return this.ctx.exclusive(electionId, () => closeStep(this.ctx, electionId));
  }

  /** Resolves once the chain steps queued so far have finished. */
  idle(): Promise<void> {
    return this.ctx.idle();
  }

  /** For status(): windows sealed but not anchored, and the age of the oldest ballot not yet anchored. */
  async backlog(): Promise<{ pendingWindows: number; anchorLagSeconds: number }> {
    const p = await anchoringProgress(this.ctx.sql);
    return {
      pendingWindows: p.sealedWindows - p.anchoredWindows,
      anchorLagSeconds: Math.round(p.lagSeconds * 1000) / 1000,
    };
  }
}
