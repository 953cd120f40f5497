// The reconcile pass (on start and every reconcileIntervalMs): the database says what is left to do; do
// it, whatever happened to the jobs. That includes sealing: ballots waiting for more than two windows
// mean the ticks are not coming (queue down, scheduler lost), and the pass seals them itself.
import { electionsToReconcileOnClusters, type LedgerClusters } from '../../ledger/src/index.js';
import type { AnchorQueues, Logger } from '../../jobs/src/index.js';
import type { Anchorer } from './anchorer.js';
import { errorMessage } from './errors.js';
import type { StepRunner } from './runner.js';

export class ReconcilePass {
  private schedulersChecked = false;

  constructor(
    private readonly clusters: LedgerClusters,
    private readonly anchorer: Anchorer,
    private readonly queues: AnchorQueues,
    private readonly runner: StepRunner,
    private readonly log: Logger,
  ) {}

  async run(): Promise<void> {
    const open = await electionsToReconcileOnClusters(this.clusters);
    try {
      if (!this.schedulersChecked) {
        // Schedulers of elections closed meanwhile (a crash between close and removal) go away.
        const wanted = new Set(open.map((r) => r.electionId));
        for (const id of await this.queues.sealSchedulers()) if (!wanted.has(id)) await this.runner.dropScheduler(id);
        this.schedulersChecked = true;
      }
      for (const r of open) await this.runner.ensureScheduler(r.electionId, r.windowSeconds);
    } catch (err) {
      // The queue is down: chain steps and overdue seals below go on without it.
      this.log('reconcile: seal schedulers not checked', { level: 'warn', error: errorMessage(err) });
    }
    for (const r of open) {
      const { electionId } = r;
      let unanchored = r.unanchored;
      if (r.overdue && !r.closeRequested) {
        try {
          if (await this.anchorer.seal(electionId)) {
            this.log('sealed by the reconcile pass: no seal tick for two windows', { level: 'warn', electionId });
            unanchored = true;
          }
        } catch (err) {
          this.log('reconcile: seal failed', { level: 'warn', electionId, error: errorMessage(err) });
        }
      }
      const halted = this.anchorer.halted.get(electionId);
      if (halted) {
        this.log(`election halted: ${halted.message}`, { level: 'error', electionId });
        continue;
      }
      // 'anchor' registers first when needed (the contract takes no window of an unregistered election).
      const kind = r.closeRequested ? 'close' : !r.registered || unanchored ? 'anchor' : null;
      if (kind === null) continue;
      try {
        await this.runner.run({ kind, electionId });
      } catch (err) {
        this.runner.noteFailure(err, { electionId, step: kind, via: 'reconcile' });
      }
    }
  }
}
