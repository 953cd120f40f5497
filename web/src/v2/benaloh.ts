// The Benaloh challenge on the voter's device (docs/protocol.md section 12.8): the ballot is encrypted and
// signed, its hash shown, and only then does the voter cast it or audit it. An audited ballot is opened
// (its randomness revealed) and thrown away: this object refuses to hand it out for casting, ever, and the
// next ballot is encrypted with new randomness. Pure logic, no DOM: web/test/v2-ballot.test.ts runs it.
import type { Selections } from '../protocol.js';
import {
  auditedBallotFile,
  encryptBallot,
  type AuditedBallotFile,
  type ElectionKeyContext,
  type EncryptedBallot,
  type SubmissionV2,
} from './ballot.js';

export class AuditedBallotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditedBallotError';
  }
}

export class BenalohDevice {
  private current: EncryptedBallot | null = null;
  /** Hashes of every ballot audited on this device: none of them is ever handed out to be cast. */
  private readonly audited = new Set<string>();
  private generation = 0;

  /** The ballot encrypted and not yet cast or audited, if any. */
  get ballot(): EncryptedBallot | null {
    return this.current;
  }

  wasAudited(ballotHash: string): boolean {
    return this.audited.has(ballotHash);
  }

  /**
   * Encrypt a new ballot (fresh randomness), replacing the one in hand. Resolves null when another
   * prepare or a discard came while it ran: only the newest is kept.
   */
  async prepare(
    ctx: ElectionKeyContext,
    seed: Uint8Array,
    selections: Selections,
    onProgress?: (fraction: number) => void,
  ): Promise<EncryptedBallot | null> {
    const mine = ++this.generation;
    this.current = null;
    const ballot = await encryptBallot(ctx, seed, selections, (f) => {
      if (mine === this.generation) onProgress?.(f);
    });
    if (mine !== this.generation) return null;
    this.current = ballot;
    return ballot;
  }

  /** Open the ballot in hand: its file is returned, the ballot is marked audited and thrown away. */
  audit(): AuditedBallotFile {
    const ballot = this.current;
    if (!ballot) throw new AuditedBallotError('there is no encrypted ballot to audit');
    this.audited.add(ballot.ballotHash);
    this.current = null;
    this.generation++;
    return auditedBallotFile(ballot);
  }

  /**
   * The ballot in hand, handed out to be cast: from now on it can no longer be audited (a cast ballot is
   * never opened), and its openings are dropped. Throws when there is none or when it was audited.
   */
  takeForCast(): { submission: SubmissionV2; ballotHash: string } {
    const ballot = this.current;
    if (!ballot) throw new AuditedBallotError('there is no encrypted ballot to cast');
    if (this.audited.has(ballot.ballotHash)) throw new AuditedBallotError('an audited ballot can never be cast');
    this.current = null;
    this.generation++;
    return { submission: ballot.submission, ballotHash: ballot.ballotHash };
  }

  /** Forget the ballot in hand (the choices changed, the key was cleared) and any encryption still running. */
  discard(): void {
    this.current = null;
    this.generation++;
  }
}
