// The Ingestor: the ingest path the API calls (ledger/README.md, "Life of a ballot"). Checks that need no
// lock (shape, election, selections, signature in worker threads; for an encrypted ballot of version 2,
// the proofs too, in their own worker threads), then micro-batches: every caller is answered only after
// the transaction holding its ballot (or its refusal's audit row) has committed. seq is assigned inside
// that transaction under the election's head-row lock (commit.ts), so it is gap-free across any number of
// processes. Both versions share everything after the checks: a ballot is its JCS text and its hash.
import type { Sql } from 'postgres';
import type { KeyObject } from 'node:crypto';
import { jcs } from '../protocol/jcs.js';
import { shardOf } from '../protocol/shards.js';
import { sha256 } from '../protocol/hash.js';
import { ProtocolError, type ErrorCode } from '../protocol/errors.js';
import {
  BALLOT_DOMAIN,
  HexError,
  ValidationError,
  parseSubmission,
  selectionsProblem,
  type Receipt,
  type Submission,
} from '../protocol/protocol.js';
import { BALLOT_V2_DOMAIN, type EncryptedSubmission, parseEncryptedSubmission } from '../protocol/v2/ballot.js';
import { ElectionCache, closedAtMs, notYetOpen, type ElectionRecord } from '../elections/read.js';
import { LedgerClusters } from '../db/clusters.js';
import { lookupRollKey } from '../elections/roll-lookup.js';
import type { VerifyPool } from '../verify-pool.js';
import { ProofPool } from '../proof-pool.js';
import { commitBatch, type BallotToCommit } from './commit.js';
import { headKey, type BatchDecision } from './decide.js';
import { receiptBody, signReceipts } from './receipts.js';
import { auditText, type Refusal } from './refusals.js';
import { encryptionContextOf, isEncryptedBody } from './encrypted.js';

const CLOSED_AT = 'the election closed at ';
/** The election-closed message: the actual close time (docs/protocol.md section 9), which clients may read. */
const closedMessage = (ms: number) => `${CLOSED_AT}${new Date(ms).toISOString()}`;

/** A 503 whose message is fixed: the cause (database or worker text) is for the server log, not the client. */
function unavailable(message: string, cause: unknown): ProtocolError {
  return Object.assign(new ProtocolError('unavailable', message), { cause });
}

export type IngestOutcome =
  | { kind: 'accepted'; receipt: Receipt }
  | { kind: 'resubmitted'; receipt: Receipt }
  | { kind: 'duplicate'; receipt: Receipt; attemptCount: number }
  | { kind: 'rejected'; code: ErrorCode; message: string };

export interface IngestMetrics {
  onBatch?(size: number, seconds: number): void;
  onOutcome?(kind: IngestOutcome['kind'], code?: ErrorCode): void;
}

export interface IngestOptions {
  /** The ledger database: the home cluster's when there are several. */
  sql: Sql;
  /**
   * The clusters of a ledger spread over several (db/clusters.ts): a sharded election's ballot commits on
   * its shard's cluster. Absent: everything on `sql`.
   */
  clusters?: LedgerClusters;
  ledgerKey: { privateKey: KeyObject };
  verifier: VerifyPool;
  /**
   * Checks the proofs of encrypted ballots. Default: the Ingestor's own pool (one thread per core, started
   * at the first encrypted ballot), stopped by close().
   */
  proofs?: ProofPool;
  /** Most ballots and rejections committed in one transaction. */
  maxBatch?: number;
  /** How long the first item of a batch waits for company before the flush. */
  maxDelayMs?: number;
  /** Transactions in flight at once per lane (all elections of one shard share a lane; each shard of a
   * sharded election has its own). */
  concurrency?: number;
  /** Transactions in flight at once over all lanes: at most the database pool's size. */
  maxTransactions?: number;
  /** Items queued before new submissions get 503 overloaded. */
  maxQueue?: number;
  /** Largest JCS ballot accepted, in bytes. */
  maxBallotBytes?: number;
  /** Largest JCS encrypted ballot (version 2) accepted, in bytes. */
  maxEncryptedBallotBytes?: number;
  /**
   * Encrypted ballots waiting for their proof checks (or being checked) before new ones get 503
   * overloaded: ~3 ms of a core each for 3 choices, so the default is a few seconds of work.
   */
  maxProofQueue?: number;
  metrics?: IngestMetrics;
  now?: () => number;
}

interface Waiter {
  resolve(o: IngestOutcome): void;
  reject(e: Error): void;
}

type Item = ({ kind: 'ballot' } & BallotToCommit & Waiter) | ({ kind: 'rejection' } & Refusal & Waiter);

/**
 * A queue of items committed one batch per transaction. Ballots of a sharded election's shard have their
 * own lane, so shards commit side by side, each under its own head lock (docs/protocol.md section 13);
 * everything else (elections of one shard, refusals) shares the main lane, as before shards.
 */
interface Lane {
  key: string;
  /** The database the lane commits to: its shard's cluster. */
  sql: Sql;
  queue: Item[];
  inflight: number;
  timer: NodeJS.Timeout | null;
}
const MAIN_LANE = 'main';

export class Ingestor {
  readonly elections: ElectionCache;
  private readonly sql: Sql;
  private readonly opts: Required<
    Omit<IngestOptions, 'metrics' | 'sql' | 'clusters' | 'ledgerKey' | 'verifier' | 'proofs' | 'now'>
  >;
  private readonly clusters: LedgerClusters;
  readonly proofs: ProofPool;
  private readonly ownProofs: boolean;
  private readonly lanes = new Map<string, Lane>();
  /** Items queued in all lanes. */
  private queuedItems = 0;
  /** Transactions in flight in all lanes. */
  private transactions = 0;
  private readonly now: () => number;

  constructor(private readonly o: IngestOptions) {
    this.sql = o.sql;
    this.clusters = o.clusters ?? new LedgerClusters(o.sql);
    this.elections = new ElectionCache(o.sql, 1000, this.clusters.others);
    this.now = o.now ?? Date.now;
    this.opts = {
      maxBatch: o.maxBatch ?? 2000,
      maxDelayMs: o.maxDelayMs ?? 2,
      concurrency: o.concurrency ?? 2,
      maxTransactions: o.maxTransactions ?? 8,
      maxQueue: o.maxQueue ?? 50_000,
      maxBallotBytes: o.maxBallotBytes ?? 16 * 1024,
      maxEncryptedBallotBytes: o.maxEncryptedBallotBytes ?? 64 * 1024,
      maxProofQueue: o.maxProofQueue ?? 4096,
    };
    this.ownProofs = o.proofs === undefined;
    this.proofs = o.proofs ?? new ProofPool();
  }

  /** Stop the Ingestor's own proof threads (a pool given in the options is its owner's to close). */
  async close(): Promise<void> {
    if (this.ownProofs) await this.proofs.close();
  }

  get queued(): number {
    return this.queuedItems;
  }

  /**
   * Take one submission for the election named in the URL, from `client` (its address, under which its
   * refusals are counted; null when unknown). Resolves with the outcome once it is durable
   * (committed); rejects only on an outage (ProtocolError 'unavailable' or 'overloaded'), in which case
   * nothing was stored and the client may retry.
   */
  async submit(electionId: string, body: unknown, client: string | null = null): Promise<IngestOutcome> {
    let outcome = await this.process(electionId, body, client);
    if (outcome.kind === 'rejected' && outcome.code === 'election-closed' && !outcome.message.startsWith(CLOSED_AT)) {
      outcome = await this.withCloseTime(electionId, outcome);
    }
    this.o.metrics?.onOutcome?.(outcome.kind, outcome.kind === 'rejected' ? outcome.code : undefined);
    return outcome;
  }

  private async process(electionId: string, body: unknown, client: string | null): Promise<IngestOutcome> {
    if (this.queuedItems >= this.opts.maxQueue) throw new ProtocolError('overloaded');
    if (isEncryptedBody(body)) return this.processEncrypted(electionId, body, client);
    const submission = this.parsed(parseSubmission, body);
    if (submission instanceof ValidationError) return this.refuseShape(client, electionId, submission);
    const checked = await this.admit(electionId, submission, client);
    if (!('ballotJcs' in checked)) return checked;
    const { election, ballotJcs, hashHex } = checked;
    const problem = selectionsProblem(election.manifest, submission.ballot.selections);
    if (problem) return this.refuse(client, electionId, hashHex, 'invalid-selections', problem);
    const sigProblem = await this.signatureProblem(submission, BALLOT_DOMAIN + ballotJcs);
    if (sigProblem)
      return this.refuse(client, electionId, hashHex, 'bad-signature', `signature rejected: ${sigProblem}`);
    return this.commitChecked(election, submission, ballotJcs, hashHex, client);
  }

  /**
   * An encrypted ballot (docs/protocol.md 12.4): the same checks as version 1 (shape, election, open,
   * signature over its own domain), then the proofs in the proof pool's threads instead of the selections.
   */
  private async processEncrypted(electionId: string, body: unknown, client: string | null): Promise<IngestOutcome> {
    // Proof checks are the dear part (ms per ballot): past a few seconds of them queued, shed load.
    if (this.proofs.pending >= this.opts.maxProofQueue) throw new ProtocolError('overloaded');
    const submission = this.parsed(parseEncryptedSubmission, body);
    if (submission instanceof ValidationError) return this.refuseShape(client, electionId, submission);
    const checked = await this.admit(electionId, submission, client);
    if (!('ballotJcs' in checked)) return checked;
    const { election, ballotJcs, hashHex } = checked;
    const context = encryptionContextOf(election);
    // admit() refused an encrypted election whose key ceremony is not complete (notYetOpen).
    if (context === null) throw new Error(`election ${electionId} has no election key`);
    const sigProblem = await this.signatureProblem(submission, BALLOT_V2_DOMAIN + ballotJcs);
    if (sigProblem)
      return this.refuse(client, electionId, hashHex, 'bad-signature', `signature rejected: ${sigProblem}`);
    // Proofs cost milliseconds of CPU: a key that is not on the roll (anyone can make one and sign with it)
    // is refused before them, with one primary-key probe, so that it cannot buy the server's proof time.
    // The commit checks the roll again under the head's lock, as for every ballot.
    let roll: Awaited<ReturnType<typeof lookupRollKey>>;
    try {
      const credential = submission.ballot.credential;
      const sql = this.clusters.sqlFor(shardOf(credential, election.shards), election.shards);
      roll = await lookupRollKey(sql, electionId, Buffer.from(credential, 'hex'));
    } catch (err) {
      throw unavailable('the ledger database is unavailable; retry later', err);
    }
    if (roll === 'not-on-roll')
      return this.refuse(
        client,
        electionId,
        hashHex,
        'credential-not-on-roll',
        `credential ${submission.ballot.credential} is not on the roll of ${electionId}`,
      );
    let problem: Awaited<ReturnType<ProofPool['check']>>;
    try {
      problem = await this.proofs.check(context, ballotJcs);
    } catch (err) {
      throw unavailable('proof verification is unavailable; retry later', err);
    }
    if (problem) return this.refuse(client, electionId, hashHex, problem.code, problem.message);
    return this.commitChecked(election, submission, ballotJcs, hashHex, client);
  }

  /**
   * The checks both versions share, in order: the election exists, is the ballot's, takes ballots of this
   * version, the ballot's size, the election open (for an encrypted one, also its key ceremony complete:
   * notYetOpen) and not closed. Gives the election, the ballot's JCS and its hash, or the refusal's outcome.
   */
  private async admit(
    electionId: string,
    submission: Submission | EncryptedSubmission,
    client: string | null,
  ): Promise<{ election: ElectionRecord; ballotJcs: string; hashHex: string } | IngestOutcome> {
    const { ballot } = submission;
    let election: ElectionRecord | null;
    try {
      election = await this.elections.get(electionId);
    } catch (err) {
      throw unavailable('the ledger database is unavailable; retry later', err);
    }
    if (!election) {
      return this.refuse(client, electionId, null, 'unknown-election', `no election ${auditText(electionId, 64)}`);
    }
    if (ballot.electionId !== electionId) {
      return this.refuse(client, electionId, null, 'wrong-election', `the ballot is for election ${ballot.electionId}`);
    }
    if (ballot.version !== election.manifest.version) {
      const takes = election.manifest.version === 2 ? 'encrypted ballots (version 2)' : 'plaintext ballots (version 1)';
      return this.refuse(client, electionId, null, 'invalid-body', `election ${electionId} takes ${takes}`);
    }
    const ballotJcs = jcs(ballot);
    const maxBytes = ballot.version === 2 ? this.opts.maxEncryptedBallotBytes : this.opts.maxBallotBytes;
    if (Buffer.byteLength(ballotJcs) > maxBytes) {
      return this.refuse(client, electionId, null, 'body-too-large', `the ballot is over ${maxBytes} bytes`);
    }
    const hashHex = sha256(`{"ballot":${ballotJcs},"signature":"${submission.signature}"}`).toString('hex');
    const now = this.now();
    if (notYetOpen(election, now)) {
      const waitsForKey = election.rollRoot !== null && now >= election.opensAtMs;
      return this.refuse(
        client,
        electionId,
        hashHex,
        'election-not-open',
        waitsForKey
          ? 'the election opens once its trustees have completed the key ceremony'
          : `the election opens at ${election.manifest.opensAt}`,
      );
    }
    if (election.closed || now >= election.closesAtMs) {
      return this.refuse(
        client,
        electionId,
        hashHex,
        'election-closed',
        // The actual close: an early admin close, not the scheduled closesAt it came before.
        closedMessage(closedAtMs(election, now) ?? election.closesAtMs),
      );
    }
    return { election, ballotJcs, hashHex };
  }

  /** Strict Ed25519 of the credential over `message`, in the verify pool: null when valid, else why not. */
  private async signatureProblem(
    submission: Submission | EncryptedSubmission,
    message: string,
  ): Promise<string | null> {
    try {
      return await this.o.verifier.verify(
        Buffer.from(submission.ballot.credential, 'hex'),
        Buffer.from(submission.signature, 'hex'),
        Buffer.from(message, 'utf8'),
      );
    } catch (err) {
      throw unavailable('signature verification is unavailable; retry later', err);
    }
  }

  /** A ballot that passed every check: into the next micro-batch; resolves once its transaction committed. */
  private commitChecked(
    election: ElectionRecord,
    submission: Submission | EncryptedSubmission,
    ballotJcs: string,
    hashHex: string,
    client: string | null,
  ): Promise<IngestOutcome> {
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.enqueue({
        kind: 'ballot',
        electionId: election.electionId,
        closesAtMs: election.closesAtMs,
        credHex: submission.ballot.credential,
        ...this.placed(election, submission.ballot.credential),
        hashHex,
        ballotJcs,
        sigHex: submission.signature,
        client,
        resolve,
        reject,
      });
    });
  }

  /**
   * A ballot refused as closed under the head lock, when this process's cached election was not closed yet
   * (closed by another process within the cache's second): the message names the close time too, read
   * fresh. Rare, so the extra read costs nothing on the ingest path; on a read error the message stays.
   */
  private async withCloseTime(
    electionId: string,
    outcome: Extract<IngestOutcome, { kind: 'rejected' }>,
  ): Promise<IngestOutcome> {
    this.elections.invalidate(electionId);
    const e = await this.elections.get(electionId).catch(() => null);
    const at = e ? closedAtMs(e, this.now()) : null;
    return at === null ? outcome : { ...outcome, message: closedMessage(at) };
  }

  /** A sharded election's ballot: its shard, and the cluster that holds it. */
  private placed(election: ElectionRecord, credential: string): { shard?: number; cluster?: number } {
    if (election.shards === 1) return {};
    const shard = shardOf(credential, election.shards);
    return { shard, cluster: this.clusters.clusterOf(shard, election.shards) };
  }

  /** The parser's result, or the ValidationError it threw (any other error is thrown on). */
  private parsed<T>(parse: (body: unknown) => T, body: unknown): T | ValidationError {
    try {
      return parse(body);
    } catch (err) {
      if (err instanceof ValidationError) return err;
      throw err;
    }
  }

  /** A body of the wrong shape: `invalid-hex` for a byte field, else `invalid-body`. */
  private refuseShape(client: string | null, electionId: string, err: ValidationError): Promise<IngestOutcome> {
    return this.refuse(client, electionId, null, err instanceof HexError ? 'invalid-hex' : 'invalid-body', err.message);
  }

  private refuse(
    client: string | null,
    electionId: string | null,
    hashHex: string | null,
    code: ErrorCode,
    detail: string,
  ): Promise<IngestOutcome> {
    return new Promise<IngestOutcome>((resolve, reject) => {
      const eid = electionId === null ? null : auditText(electionId, 128);
      this.enqueue({
        kind: 'rejection',
        electionId: eid,
        credHex: null,
        client,
        hashHex,
        code,
        detail: auditText(detail, 300),
        resolve,
        reject,
      });
    });
  }

  private enqueue(item: Item): void {
    const sharded = item.kind === 'ballot' && item.shard !== undefined;
    const key = sharded ? headKey(item.electionId, item.shard) : MAIN_LANE;
    let lane = this.lanes.get(key);
    if (!lane) {
      const sql = sharded ? this.clusters.all[item.cluster ?? 0]! : this.sql;
      lane = { key, sql, queue: [], inflight: 0, timer: null };
      this.lanes.set(key, lane);
    }
    lane.queue.push(item);
    this.queuedItems++;
    this.pump(lane);
  }

  /**
   * Start a transaction when the lane has work and a free slot: a full batch at once; a partial one after
   * maxDelayMs when nothing is in flight, else it gathers until the running transaction ends (a second
   * one queued on the head lock measured slower: smaller batches for the same lock hand-off).
   */
  private pump(lane: Lane): void {
    while (
      lane.queue.length > 0 &&
      lane.inflight < this.opts.concurrency &&
      this.transactions < this.opts.maxTransactions
    ) {
      if (lane.queue.length < this.opts.maxBatch && lane.inflight > 0) return; // the running flush will pick them up
      if (lane.queue.length < this.opts.maxBatch && this.opts.maxDelayMs > 0 && lane.inflight === 0) {
        if (!lane.timer) {
          lane.timer = setTimeout(() => {
            lane.timer = null;
            this.startFlush(lane);
          }, this.opts.maxDelayMs);
        }
        return;
      }
      this.startFlush(lane);
    }
  }

  /** A transaction ended: its lane first, then lanes that waited for a free transaction slot. */
  private released(lane: Lane): void {
    if (lane.queue.length > 0) {
      if (lane.inflight === 0) this.startFlush(lane);
      else this.pump(lane);
    }
    for (const other of this.lanes.values()) {
      if (this.transactions >= this.opts.maxTransactions) break;
      if (other !== lane && other.queue.length > 0 && other.inflight === 0 && other.timer === null)
        this.startFlush(other);
    }
    if (lane.queue.length === 0 && lane.inflight === 0 && lane.key !== MAIN_LANE) this.lanes.delete(lane.key);
  }

  private startFlush(lane: Lane): void {
    if (lane.queue.length === 0 || lane.inflight >= this.opts.concurrency) return;
    if (this.transactions >= this.opts.maxTransactions) return; // released() starts it when a slot frees
    if (lane.timer) {
      clearTimeout(lane.timer);
      lane.timer = null;
    }
    const batch = lane.queue.splice(0, this.opts.maxBatch);
    this.queuedItems -= batch.length;
    lane.inflight++;
    this.transactions++;
    const started = process.hrtime.bigint();
    const release = () => {
      lane.inflight--;
      this.transactions--;
      this.released(lane);
    };
    const ballots = batch.filter((it) => it.kind === 'ballot');
    const refusals = batch.filter((it) => it.kind === 'rejection');
    // Everything a receipt says is decided before COMMIT: the receipts are signed while the writes and
    // COMMIT travel. None leaves this process before COMMIT has returned; if it fails, they are dropped.
    let signing: Promise<Receipt[]> = Promise.resolve([]);
    const onDecided = (d: BatchDecision) => {
      signing = signReceipts(receiptBodies(ballots, d), this.o.ledgerKey, this.o.verifier);
      signing.catch(() => undefined); // awaited below after a successful COMMIT
    };
    commitBatch(lane.sql, ballots, refusals, this.now(), onDecided)
      .then(
        (decision) => {
          // The transaction slot is free as soon as COMMIT returns; the receipts' signing began before it.
          release();
          return signing.then((receipts) => {
            this.o.metrics?.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
            const outcomes = ballotOutcomes(decision, receipts);
            ballots.forEach((it, i) => {
              it.resolve(outcomes[i]!);
            });
            for (const it of refusals) it.resolve({ kind: 'rejected', code: it.code, message: it.detail });
          });
        },
        (err: Error) => {
          release();
          const e =
            err instanceof ProtocolError ? err : unavailable('the ledger database is unavailable; retry later', err);
          for (const it of batch) it.reject(e);
        },
      )
      .catch((err: Error) => {
        for (const it of batch) it.reject(unavailable('receipt signing is unavailable; retry later', err));
      });
  }
}

/** The receipt bodies a decided batch owes, in ballot order (refused ballots owe none, duplicates do). */
function receiptBodies(ballots: readonly BallotToCommit[], d: BatchDecision) {
  return d.decisions.flatMap((dec, i) =>
    dec.kind === 'rejected' ? [] : [receiptBody(ballots[i]!.electionId, dec.ballot)],
  );
}

/** Each ballot's outcome, with its signed receipt (`receipts` in the order of receiptBodies). */
function ballotOutcomes(d: BatchDecision, receipts: readonly Receipt[]): IngestOutcome[] {
  let r = 0;
  return d.decisions.map((dec): IngestOutcome => {
    if (dec.kind === 'rejected') return { kind: 'rejected', code: dec.code, message: dec.message };
    const receipt = receipts[r++]!;
    return dec.kind === 'duplicate'
      ? { kind: 'duplicate', receipt, attemptCount: dec.attemptCount }
      : { kind: dec.kind, receipt };
  });
}
