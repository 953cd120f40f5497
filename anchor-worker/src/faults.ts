// Crash injection for the separate-process tests (README, "Job flow"): TALLYPROOF_FAULT=point:n makes the
// process SIGKILL itself the n-th time it reaches `point` (n defaults to 1; several specs comma-separated).
// Unset, every hit is a no-op. The kill is immediate: no finally block, no flush, no COMMIT.
import { writeSync } from 'node:fs';

export const FAULT_POINTS = [
  'before-seal-commit', // inside the seal transaction, window row written, not committed
  'after-seal-commit', // window committed, no anchor job enqueued yet
  'after-register-send', // registerElection broadcast, not recorded
  'after-anchor-send', // anchorWindow broadcast, receipt not seen
  'after-anchor-mined', // anchorWindow confirmed, not recorded in the ledger
  'after-anchor-record', // anchor_tx recorded, job not acknowledged
  'after-close-send', // closeElection broadcast, not recorded
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

export class Faults {
  private readonly targets = new Map<FaultPoint, number>();
  private readonly seen = new Map<FaultPoint, number>();

  /** `spec` like "after-anchor-send:2,before-seal-commit"; `action` defaults to SIGKILL of this process. */
  constructor(
    spec: string | null | undefined,
    private readonly action: (point: FaultPoint) => void = killSelf,
  ) {
    for (const part of (spec ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [point, nth = '1'] = part.split(':');
      if (!(FAULT_POINTS as readonly string[]).includes(point!))
        throw new Error(`TALLYPROOF_FAULT: unknown point "${point}" (known: ${FAULT_POINTS.join(', ')})`);
      if (!/^[1-9]\d*$/.test(nth)) throw new Error(`TALLYPROOF_FAULT: "${part}": the count must be a positive integer`);
      this.targets.set(point as FaultPoint, Number(nth));
    }
  }

  get armed(): boolean {
    return this.targets.size > 0;
  }

  hit(point: FaultPoint): void {
    const target = this.targets.get(point);
    if (target === undefined) return;
    const n = (this.seen.get(point) ?? 0) + 1;
    this.seen.set(point, n);
    if (n === target) this.action(point);
  }
}

function killSelf(point: FaultPoint): void {
  writeSync(2, `tallyproof: fault injected at ${point}, SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
