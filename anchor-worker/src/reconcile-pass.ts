// The reconcile pass (on start and every reconcileIntervalMs): the database says what is left to do; do
// it, whatever happened to the jobs. That includes sealing: ballots waiting for more than two windows
// mean the ticks are not coming (queue down, scheduler lost), and the pass seals them itself. It also gives
// windows sealed before tiles existed (docs/protocol.md section 14) their tiles, a few per pass.
import {
  electionsToReconcileOnClusters,
  storeMissingWindowTiles,
  type LedgerClusters,
} from '../../ledger/src/index.js';
import type { AnchorQueues, Logger } from '../../jobs/src/index.js';
import type { Anchorer } from './anchorer.js';
import { errorMessage } from './errors.js';
import type { StepRunner } from './runner.js';

/** Windows given their tiles per pass and cluster (each is one streamed read of its ballots). */
const TILE_BACKFILL_WINDOWS = 10;

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
    await this.storeMissingTiles();
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

  /** Windows sealed by an earlier version have no tiles; a reader's first proof would otherwise store them. */
  private async storeMissingTiles(): Promise<void> {
    for (const sql of this.clusters.all) {
      try {
        const stored = await storeMissingWindowTiles(sql, TILE_BACKFILL_WINDOWS);
        if (stored > 0) this.log('tiles stored for windows sealed before tiles existed', { windows: stored });
      } catch (err) {
        this.log('reconcile: tiles not stored', { level: 'warn', error: errorMessage(err) });
      }
    }
  }
}
