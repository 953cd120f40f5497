// Runs the chain step a job (or the reconcile pass) asks for, keeps the seal schedulers in step with the
// elections' lifecycle, and logs failures by kind: a chain outage once at its start and end, not per try.
import type { Sql } from 'postgres';
import { anchoringState } from '../../ledger/src/index.js';
import type { AnchorQueues, ChainJobData, Logger } from '../../jobs/src/index.js';
import type { Anchorer } from './anchorer.js';
import { AnchorDivergenceError, AnchorerBusyError, ChainUnavailableError, errorMessage } from './errors.js';

export class StepRunner {
  /** Elections whose seal scheduler this process has put in place. */
  private readonly scheduled = new Set<string>();
  private chainDownSince: number | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly anchorer: Anchorer,
    private readonly queues: AnchorQueues,
    private readonly log: Logger,
  ) {}

  /** One seal scheduler per election that may still receive ballots (roll frozen, not closed on chain). */
  async ensureScheduler(electionId: string, windowSeconds: number): Promise<void> {
    if (this.scheduled.has(electionId)) return;
    await this.queues.upsertSealScheduler(electionId, windowSeconds);
    this.scheduled.add(electionId);
    this.log('seal scheduler running', { electionId, windowSeconds });
  }

  async dropScheduler(electionId: string): Promise<void> {
    await this.queues.removeSealScheduler(electionId);
    this.scheduled.delete(electionId);
  }

  async run(data: ChainJobData): Promise<void> {
    const { electionId } = data;
    switch (data.kind) {
      case 'register': {
        if (await this.anchorer.register(electionId)) {
          const e = await anchoringState(this.sql, electionId);
          if (e.closeTx === null) await this.ensureScheduler(electionId, e.windowSeconds);
        }
        break;
      }
      case 'anchor':
        await this.anchorer.anchorPending(electionId);
        break;
      case 'close':
        await this.anchorer.close(electionId);
        await this.dropScheduler(electionId);
        break;
    }
    this.noteSuccess();
  }

  /** Chain outages fail every step: log the transitions, not every failure. Divergences log themselves. */
  noteFailure(err: unknown, fields: object): void {
    if (err instanceof ChainUnavailableError) {
      if (this.chainDownSince === null) {
        this.chainDownSince = Date.now();
        this.log('chain unavailable, anchors wait (sealing goes on)', {
          level: 'warn',
          ...fields,
          error: errorMessage(err),
        });
      }
    } else if (err instanceof AnchorerBusyError) {
      this.log('another worker is anchoring, leaving it the step', {
        level: 'warn',
        ...fields,
        error: errorMessage(err),
      });
    } else if (!(err instanceof AnchorDivergenceError)) {
      this.log('step failed, will retry', { level: 'warn', ...fields, error: errorMessage(err) });
    }
  }

  private noteSuccess(): void {
    if (this.chainDownSince !== null) {
      this.log('chain reachable again', { downSeconds: (Date.now() - this.chainDownSince) / 1000 });
      this.chainDownSince = null;
    }
  }
}
