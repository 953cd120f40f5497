// The ingest path (ledger/README.md, "Life of a ballot"): validate, verify the signature in worker
// threads, then commit in micro-batches. Every caller is answered only after the transaction holding its
// ballot (or its rejection's audit row) has committed. seq is assigned inside the committing transaction
// under the election's head-row lock, so it is gap-free across any number of processes.
import type { Sql, TransactionSql } from 'postgres';
import type { KeyObject } from 'node:crypto';
import { jcs } from './protocol/jcs.js';
import { sha256 } from './protocol/hash.js';
import { ProtocolError, type ErrorCode } from './protocol/errors.js';
import { BALLOT_DOMAIN, HexError, ValidationError, parseSubmission, receiptMessage, selectionsProblem, signReceipt, type Receipt, type ReceiptBody, type Submission } from './protocol/protocol.js';
import { ElectionCache, type ElectionRecord } from './elections.js';
import { VerifyPool } from './verify-pool.js';

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
  sql: Sql;
  ledgerKey: { privateKey: KeyObject };
  verifier: VerifyPool;
  /** Most ballots and rejections committed in one transaction. */
  maxBatch?: number;
  /** How long the first item of a batch waits for company before the flush. */
  maxDelayMs?: number;
  /** Transactions in flight at once. */
  concurrency?: number;
  /** Items queued before new submissions get 503 overloaded. */
  maxQueue?: number;
  /** Largest JCS ballot accepted, in bytes. */
  maxBallotBytes?: number;
  metrics?: IngestMetrics;
  now?: () => number;
}

interface BallotItem {
  kind: 'ballot';
  election: ElectionRecord;
  ballotJcs: string;
  hashHex: string;
  credHex: string;
  sigHex: string;
  resolve(o: IngestOutcome): void;
  reject(e: Error): void;
}

interface RejectionItem {
  kind: 'rejection';
  electionId: string | null;
  credHex: string | null;
  hashHex: string | null;
  code: ErrorCode;
  detail: string;
  attemptCount: number | null;
  resolve(o: IngestOutcome): void;
  reject(e: Error): void;
}

type Item = BallotItem | RejectionItem;

interface ReceiptToSign {
  index: number;
  kind: 'accepted' | 'resubmitted' | 'duplicate';
  electionId: string;
  seq: number;
  hashHex: string;
  receivedAt: string;
  attemptCount?: number;
}

interface Committed {
  outcomes: (IngestOutcome | null)[];
  receiptsToSign: ReceiptToSign[];
  /** The receipts of receiptsToSign, in order: signed while the writes and COMMIT are in flight. */
  receipts: Promise<Receipt[]>;
}

/**
 * What the ledger knows of each (election, credential hex) pair of a batch, $1 and $2 being parallel text
 * arrays: on the roll or not; its ballot if one is stored; its refused duplicate attempts so far. It must
 * stay one index probe per credential as the roll and the ledger grow. Written as a plain join it was
 * planned as hash joins over the whole roll and ledger: a full scan in every ingest transaction, ~10 ms of
 * PostgreSQL CPU at 465,000 credentials, rising with every ballot. So each lookup is a LATERAL subquery
 * with LIMIT (or an aggregate), which the planner cannot flatten into a join; and the transaction plans
 * it afresh each time (plan_cache_mode = force_custom_plan, ~0.2 ms), because a generic plan cached while
 * the ballots table was nearly empty may probe it by election alone, reading every ballot of the election
 * per credential, and keep doing so for as long as no ANALYZE runs (autovacuum may be off, as it is on the
 * development machine). (Sent unprepared instead, it would cost postgres.js a Describe round trip per
 * transaction, under the head lock.) ledger/test/ingest-plan.test.ts holds the plan to index probes.
 */
export const CREDENTIAL_LOOKUP_SQL = `
  SELECT q.e, q.x AS c, r.one IS NOT NULL AS on_roll, b.seq, encode(b.ballot_hash, 'hex') AS h, b.received_at, a.attempts
  FROM unnest($1::text[], $2::text[]) AS q(e, x)
  LEFT JOIN LATERAL (SELECT 1 AS one FROM credentials cr WHERE cr.election_id = q.e AND cr.credential = decode(q.x, 'hex') LIMIT 1) r ON true
  LEFT JOIN LATERAL (SELECT seq, ballot_hash, received_at FROM ballots b WHERE b.election_id = q.e AND b.credential = decode(q.x, 'hex') LIMIT 1) b ON true
  LEFT JOIN LATERAL (SELECT max(attempt_count) AS attempts FROM rejected_attempts ra
                     WHERE b.seq IS NOT NULL AND ra.election_id = q.e AND ra.credential = decode(q.x, 'hex') AND ra.reason = 'duplicate') a ON true`;

// Audit text comes from the client: PostgreSQL text cannot hold NUL, and one bad row would fail the
// whole batch's transaction (a 503 for every ballot in it), so NUL is replaced before it is stored.
const truncate = (s: string, n = 300) => (s.length > n ? s.slice(0, n) + '…' : s).replace(/\u0000/g, '\uFFFD');

export class Ingestor {
  readonly elections: ElectionCache;
  private readonly sql: Sql;
  private readonly opts: Required<Omit<IngestOptions, 'metrics' | 'sql' | 'ledgerKey' | 'verifier' | 'now'>>;
  private readonly queue: Item[] = [];
  private inflight = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly o: IngestOptions) {
    this.sql = o.sql;
    this.elections = new ElectionCache(o.sql);
    this.now = o.now ?? Date.now;
    this.opts = {
      maxBatch: o.maxBatch ?? 2000,
      maxDelayMs: o.maxDelayMs ?? 2,
      concurrency: o.concurrency ?? 2,
      maxQueue: o.maxQueue ?? 50_000,
      maxBallotBytes: o.maxBallotBytes ?? 16 * 1024,
    };
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Take one submission for the election named in the URL. Resolves with the outcome once it is durable
   * (committed); rejects only on an outage (ProtocolError 'unavailable' or 'overloaded'), in which case
   * nothing was stored and the client may retry.
   */
  async submit(electionId: string, body: unknown): Promise<IngestOutcome> {
    const outcome = await this.process(electionId, body);
    this.o.metrics?.onOutcome?.(outcome.kind, outcome.kind === 'rejected' ? outcome.code : undefined);
    return outcome;
  }

  private async process(electionId: string, body: unknown): Promise<IngestOutcome> {
    if (this.queue.length >= this.opts.maxQueue) throw new ProtocolError('overloaded');
    let submission: Submission;
    try {
      submission = parseSubmission(body);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return this.rejectWith(electionId, null, null, err instanceof HexError ? 'invalid-hex' : 'invalid-body', err.message);
    }
    const { ballot } = submission;
    const credHex = ballot.credential;
    let election: ElectionRecord | null;
    try {
      election = await this.elections.get(electionId);
    } catch (err) {
      throw new ProtocolError('unavailable', `database unavailable: ${(err as Error).message}`);
    }
    if (!election) return this.rejectWith(electionId, credHex, null, 'unknown-election', `no election ${truncate(electionId, 64)}`);
    if (ballot.electionId !== electionId) return this.rejectWith(electionId, credHex, null, 'wrong-election', `the ballot is for election ${ballot.electionId}`);
    const ballotJcs = jcs(ballot);
    if (Buffer.byteLength(ballotJcs) > this.opts.maxBallotBytes) return this.rejectWith(electionId, credHex, null, 'body-too-large', `the ballot is over ${this.opts.maxBallotBytes} bytes`);
    const hashHex = sha256(`{"ballot":${ballotJcs},"signature":"${submission.signature}"}`).toString('hex');
    const now = this.now();
    if (election.rollRoot === null || now < election.opensAtMs) return this.rejectWith(electionId, credHex, hashHex, 'election-not-open', `the election opens at ${election.manifest.opensAt}`);
    if (election.closed || now >= election.closesAtMs) return this.rejectWith(electionId, credHex, hashHex, 'election-closed', `the election closed at ${election.manifest.closesAt}`);
    const problem = selectionsProblem(election.manifest, ballot.selections);
    if (problem) return this.rejectWith(electionId, credHex, hashHex, 'invalid-selections', problem);
    let sigProblem: string | null;
    try {
      sigProblem = await this.o.verifier.verify(Buffer.from(credHex, 'hex'), Buffer.from(submission.signature, 'hex'), Buffer.from(BALLOT_DOMAIN + ballotJcs, 'utf8'));
    } catch (err) {
      throw new ProtocolError('unavailable', `signature verification unavailable: ${(err as Error).message}`);
    }
    if (sigProblem) return this.rejectWith(electionId, credHex, hashHex, 'bad-signature', `signature rejected: ${sigProblem}`);
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.enqueue({ kind: 'ballot', election, ballotJcs, hashHex, credHex, sigHex: submission.signature, resolve, reject });
    });
  }

  private rejectWith(electionId: string | null, credHex: string | null, hashHex: string | null, code: ErrorCode, detail: string): Promise<IngestOutcome> {
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.enqueue({ kind: 'rejection', electionId: electionId === null ? null : truncate(electionId, 128), credHex, hashHex, code, detail: truncate(detail), attemptCount: null, resolve, reject });
    });
  }

  private enqueue(item: Item): void {
    this.queue.push(item);
    this.pump();
  }

  /**
   * Start a transaction when there is work and a free slot: a full batch at once; a partial one after
   * maxDelayMs when nothing is in flight, else it gathers until the running transaction ends (a second
   * one queued on the head lock measured slower: smaller batches for the same lock hand-off).
   */
  private pump(): void {
    while (this.queue.length > 0 && this.inflight < this.opts.concurrency) {
      if (this.queue.length < this.opts.maxBatch && this.inflight > 0) return; // the running flush will pick them up
      if (this.queue.length < this.opts.maxBatch && this.opts.maxDelayMs > 0 && this.inflight === 0) {
        if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.startFlush();
          }, this.opts.maxDelayMs);
        }
        return;
      }
      this.startFlush();
    }
  }

  private startFlush(): void {
    if (this.queue.length === 0 || this.inflight >= this.opts.concurrency) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.inflight++;
    const started = process.hrtime.bigint();
    const release = () => {
      this.inflight--;
      if (this.queue.length > 0) {
        if (this.inflight === 0) this.startFlush();
        else this.pump();
      }
    };
    this.commit(batch)
      .then(
        (committed) => {
          // The transaction slot is free as soon as COMMIT returns; the receipts' signing began before it.
          release();
          return this.finish(batch, committed).then((outcomes) => {
            this.o.metrics?.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
            batch.forEach((it, i) => it.resolve(outcomes[i]!));
          });
        },
        (err: Error) => {
          release();
          const e = err instanceof ProtocolError ? err : new ProtocolError('unavailable', `ledger unavailable: ${err.message}`);
          for (const it of batch) it.reject(e);
        },
      )
      .catch((err: Error) => {
        for (const it of batch) it.reject(new ProtocolError('unavailable', `receipt signing failed: ${err.message}`));
      });
  }

  /**
   * One transaction for the whole batch; nothing is resolved before COMMIT. The election heads are locked
   * for the whole transaction, so the time between the lock and COMMIT bounds ingest: the statements go
   * out pipelined — the head lock and the credential lookup together (the lookup runs after the lock is
   * granted, with a fresh READ COMMITTED snapshot, so it sees every ballot committed before it), then
   * the writes together. (postgres.js's reserve() would also pipeline BEGIN and COMMIT, but a reserved
   * connection that dies is handed back to the pool and crashes the next query on it; sql.begin fails
   * the transaction cleanly when its connection closes.)
   */
  private async commit(batch: Item[]): Promise<Committed> {
    const receivedAtMs = this.now();
    const receivedAt = new Date(receivedAtMs).toISOString();
    const outcomes: (IngestOutcome | null)[] = new Array(batch.length).fill(null);
    const receiptsToSign: ReceiptToSign[] = [];
    const rejections: RejectionItem[] = batch.filter((it): it is RejectionItem => it.kind === 'rejection');

    const byElection = new Map<string, number[]>();
    batch.forEach((it, i) => {
      if (it.kind !== 'ballot') return;
      const list = byElection.get(it.election.electionId);
      if (list) list.push(i);
      else byElection.set(it.election.electionId, [i]);
    });
    const electionIds = [...byElection.keys()].sort();
    if (electionIds.length === 0) {
      // Only refusals: one statement, its own transaction, no lock.
      await this.insertRejections(this.sql, rejections);
      return { outcomes, receiptsToSign, receipts: Promise.resolve([]) };
    }

    // The (election, credential) pairs to look up, once each.
    const lookupE: string[] = [];
    const lookupC: string[] = [];
    for (const eid of electionIds) {
      for (const c of new Set(byElection.get(eid)!.map((i) => (batch[i] as BallotItem).credHex))) {
        lookupE.push(eid);
        lookupC.push(c);
      }
    }

    let receipts: Promise<Receipt[]> = Promise.resolve([]);
    await this.sql.begin(async (tx) => {
      const [, heads, known] = await Promise.all([
        // Plan this transaction's statements for the tables as they are now (see CREDENTIAL_LOOKUP_SQL).
        tx`SET LOCAL plan_cache_mode = force_custom_plan`,
        tx`SELECT election_id, next_seq, closed FROM election_heads WHERE election_id IN ${tx(electionIds)} ORDER BY election_id FOR UPDATE`,
        tx.unsafe(CREDENTIAL_LOOKUP_SQL, [lookupE, lookupC], { prepare: true }),
      ]);
      const headMap = new Map(heads.map((h) => [h.election_id as string, { nextSeq: Number(h.next_seq), closed: Boolean(h.closed) }]));
      const info = new Map(known.map((r) => [`${r.e as string}/${r.c as string}`, {
        onRoll: Boolean(r.on_roll),
        existing: r.seq == null ? null : { seq: Number(r.seq), hashHex: r.h as string, receivedAt: (r.received_at as Date).toISOString() },
        attempts: r.attempts == null ? 0 : Number(r.attempts),
      }]));
      const ballotsCols = { e: [] as string[], seq: [] as number[], h: [] as string[], c: [] as string[], b: [] as string[], s: [] as string[] };
      const newHeads: { e: string; next: number }[] = [];

      for (const eid of electionIds) {
        const head = headMap.get(eid)!;
        let next = head.nextSeq;
        for (const i of byElection.get(eid)!) {
          const it = batch[i] as BallotItem;
          const rec = info.get(`${eid}/${it.credHex}`)!;
          const reject = (code: ErrorCode, detail: string, attemptCount: number | null = null) => {
            rejections.push({ kind: 'rejection', electionId: eid, credHex: it.credHex, hashHex: it.hashHex, code, detail, attemptCount, resolve: it.resolve, reject: it.reject });
          };
          if (!rec.onRoll) {
            reject('credential-not-on-roll', `credential ${it.credHex} is not on the roll`);
            outcomes[i] = { kind: 'rejected', code: 'credential-not-on-roll', message: `credential ${it.credHex} is not on the roll of ${eid}` };
          } else if (head.closed || receivedAtMs >= it.election.closesAtMs) {
            reject('election-closed', 'the election is closed');
            outcomes[i] = { kind: 'rejected', code: 'election-closed', message: `election ${eid} is closed` };
          } else if (rec.existing) {
            if (rec.existing.hashHex === it.hashHex) {
              receiptsToSign.push({ index: i, kind: 'resubmitted', electionId: eid, ...rec.existing });
            } else {
              rec.attempts += 1;
              reject('duplicate', `credential already cast seq ${rec.existing.seq}`, rec.attempts);
              receiptsToSign.push({ index: i, kind: 'duplicate', electionId: eid, ...rec.existing, attemptCount: rec.attempts });
            }
          } else {
            rec.existing = { seq: next, hashHex: it.hashHex, receivedAt };
            ballotsCols.e.push(eid);
            ballotsCols.seq.push(next);
            ballotsCols.h.push(it.hashHex);
            ballotsCols.c.push(it.credHex);
            ballotsCols.b.push(it.ballotJcs);
            ballotsCols.s.push(it.sigHex);
            receiptsToSign.push({ index: i, kind: 'accepted', electionId: eid, seq: next, hashHex: it.hashHex, receivedAt });
            next++;
          }
        }
        if (next !== head.nextSeq) newHeads.push({ e: eid, next });
      }

      const writes: Promise<unknown>[] = [];
      if (ballotsCols.e.length > 0) {
        writes.push(tx`
          INSERT INTO ballots (election_id, seq, ballot_hash, credential, ballot, signature, received_at)
          SELECT e, seq, decode(h, 'hex'), decode(c, 'hex'), b, decode(s, 'hex'), ${receivedAt}::timestamptz
          FROM unnest(${ballotsCols.e}::text[], ${ballotsCols.seq}::bigint[], ${ballotsCols.h}::text[], ${ballotsCols.c}::text[], ${ballotsCols.b}::text[], ${ballotsCols.s}::text[]) AS t(e, seq, h, c, b, s)`);
      }
      for (const h of newHeads) writes.push(tx`UPDATE election_heads SET next_seq = ${h.next} WHERE election_id = ${h.e}`);
      if (rejections.length > 0) writes.push(this.insertRejections(tx, rejections));
      // Everything a receipt says is decided: sign them while the writes and COMMIT travel. No receipt
      // leaves this process before COMMIT has returned; if it fails, the signatures are dropped.
      receipts = this.signReceipts(receiptsToSign);
      receipts.catch(() => undefined); // awaited by finish() after a successful COMMIT
      await Promise.all(writes);
    });
    return { outcomes, receiptsToSign, receipts };
  }

  /** The INSERT of a batch's audit rows, on the pool or in the batch's transaction. */
  private insertRejections(sql: Sql | TransactionSql, rejections: RejectionItem[]) {
    return sql`
      INSERT INTO rejected_attempts (election_id, credential, ballot_hash, reason, detail, attempt_count)
      SELECT e, decode(c, 'hex'), decode(h, 'hex'), r, d, a
      FROM unnest(${rejections.map((r) => r.electionId)}::text[], ${rejections.map((r) => r.credHex)}::text[], ${rejections.map((r) => r.hashHex)}::text[],
                  ${rejections.map((r) => r.code)}::text[], ${rejections.map((r) => r.detail)}::text[], ${rejections.map((r) => r.attemptCount)}::int[]) AS t(e, c, h, r, d, a)`;
  }

  /**
   * Sign receipts with the ledger key: in the worker pool when it holds the key (signing costs a third
   * of a verification), else here. Ed25519 is deterministic, so a receipt is re-signed, never stored.
   */
  private async signReceipts(toSign: ReceiptToSign[]): Promise<Receipt[]> {
    const bodies: ReceiptBody[] = toSign.map((r) => ({ version: 1, electionId: r.electionId, seq: r.seq, ballotHash: r.hashHex, receivedAt: r.receivedAt }));
    if (bodies.length === 0) return [];
    if (!this.o.verifier.canSign) return bodies.map((b) => signReceipt(this.o.ledgerKey.privateKey, b));
    const sigs = await this.o.verifier.sign(bodies.map(receiptMessage)).catch(() =>
      // The pool failed (a worker died): sign here rather than fail ballots that are committed.
      bodies.map((b) => Buffer.from(signReceipt(this.o.ledgerKey.privateKey, b).signature, 'hex')));
    return bodies.map((b, i) => ({ ...b, signature: sigs[i]!.toString('hex') }));
  }

  /** Put every outcome of a committed batch in batch order, with its signed receipt. */
  private async finish(batch: Item[], { outcomes, receiptsToSign, receipts: signing }: Committed): Promise<IngestOutcome[]> {
    const receipts = await signing;
    receiptsToSign.forEach((r, i) => {
      const receipt = receipts[i]!;
      outcomes[r.index] = r.kind === 'duplicate' ? { kind: 'duplicate', receipt, attemptCount: r.attemptCount! } : { kind: r.kind, receipt };
    });
    batch.forEach((it, i) => {
      if (outcomes[i] === null && it.kind === 'rejection') outcomes[i] = { kind: 'rejected', code: it.code, message: it.detail };
    });
    return outcomes as IngestOutcome[];
  }
}

/** The original receipt for a stored ballot, by its hash (null when unknown). */
export async function receiptFor(sql: Sql, ledgerKey: { privateKey: KeyObject }, ballotHashHex: string): Promise<Receipt | null> {
  const [r] = await sql`SELECT election_id, seq, received_at FROM ballots WHERE ballot_hash = decode(${ballotHashHex}, 'hex')`;
  if (!r) return null;
  return signReceipt(ledgerKey.privateKey, { version: 1, electionId: r.election_id as string, seq: Number(r.seq), ballotHash: ballotHashHex, receivedAt: (r.received_at as Date).toISOString() });
}
