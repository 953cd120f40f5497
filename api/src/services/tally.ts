// The live tally, kept in process and advanced incrementally: each refresh reads only the ballots with a
// seq above the last one counted (keyset on the (election_id, seq) primary key), never recounts. The
// stream route subscribes; a short poll of the head row (several API processes write one ledger, so a
// local hook alone would miss the others' ballots) plus a poke from this process's own accepted ballots
// push an update within a second of a commit. An encrypted election's ballots are never read (they hold
// no selections): its turnout is the head's count, its counts the trustees' decryption once stored
// (docs/protocol.md 12.6).
import type { Sql } from 'postgres';
import {
  anchoredBallotCount,
  ballotsAfter,
  LedgerClusters,
  shardCommittedCountsOnClusters,
  decryptionProgress,
  getElection,
  type ContestCounts,
  type Manifest,
  type Tally,
} from '../../../ledger/src/index.js';

export type { ContestCounts, Tally };

export interface PlaintextResults {
  electionId: string;
  tally: Tally;
  totalBallots: number;
  anchoredBallots: number;
  /** Last seq counted; -1 when none. */
  asOfSeq: number;
  /** Per contest: ballots counted and blank ballots (selecting nothing there), the basis of percentages. */
  contests: ContestCounts;
  ballotMode?: undefined;
}

/** Where the decryption of an encrypted election stands (docs/protocol.md 12.6). */
export interface DecryptionStatus {
  status: 'waiting' | 'complete';
  threshold: number;
  received: string[];
  aggregateHash: string;
}

/** An encrypted election's results: turnout live, counts null until the trustees have decrypted. */
export interface EncryptedResults {
  electionId: string;
  tally: Tally | null;
  totalBallots: number;
  anchoredBallots: number;
  asOfSeq: number;
  /** Once decrypted: every ballot counts in every contest; blank votes are not known (null). */
  contests: Record<string, { ballotsCounted: number; blank: null }> | null;
  ballotMode: 'encrypted';
  /** Null until the close has published the aggregate. */
  decryption: DecryptionStatus | null;
}

export type LiveResults = PlaintextResults | EncryptedResults;

type Listener = (r: LiveResults) => void;

interface ElectionTally {
  electionId: string;
  manifest: Manifest;
  /** contest → choice → count, in manifest order so the JSON lists choices as the manifest does. */
  counts: Map<string, Map<string, number>>;
  /** contest → ballots counted that list it and those that select nothing in it, in manifest order. */
  contests: Map<string, { ballotsCounted: number; blank: number }>;
  total: number;
  /** One shard: the last seq counted. Several: total - 1 (docs/protocol.md 13.5), the shards' own in shardAsOf. */
  asOfSeq: number;
  /** Per shard, the last seq counted (one entry for an election of one shard). */
  shardAsOf: number[];
  anchored: number;
  /** Encrypted elections: their decryption's status and counts (null until there are some). */
  encrypted: { decryption: DecryptionStatus | null; tally: Tally | null } | null;
  listeners: Set<Listener>;
  /** The refresh running now, and whether another must follow it (coalesces pokes). */
  running: Promise<LiveResults> | null;
  again: boolean;
}

export interface TallyTrackerOptions {
  /** How often subscribed elections are checked for new commits and anchors. */
  pollMs?: number;
  /** Ballots read per query while catching up. */
  pageSize?: number;
  onError?: (err: Error) => void;
}

export class TallyTracker {
  private readonly elections = new Map<string, Promise<ElectionTally | null>>();
  private readonly pollMs: number;
  private readonly pageSize: number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  private readonly sql: Sql;
  /** Where each shard of a sharded election is read (the home alone unless the ledger has several clusters). */
  private readonly clusters: LedgerClusters;

  constructor(
    ledger: Sql | LedgerClusters,
    private readonly opts: TallyTrackerOptions = {},
  ) {
    this.clusters = ledger instanceof LedgerClusters ? ledger : new LedgerClusters(ledger);
    this.sql = this.clusters.home;
    this.pollMs = opts.pollMs ?? 250;
    this.pageSize = opts.pageSize ?? 5000;
  }

  private state(electionId: string): Promise<ElectionTally | null> {
    let s = this.elections.get(electionId);
    if (!s) {
      s = getElection(this.sql, electionId).then((e) => {
        if (!e) return null;
        const counts = new Map(e.manifest.contests.map((c) => [c.id, new Map(c.choices.map((k) => [k.id, 0]))]));
        const contests = new Map(e.manifest.contests.map((c) => [c.id, { ballotsCounted: 0, blank: 0 }]));
        return {
          electionId,
          manifest: e.manifest,
          counts,
          contests,
          total: 0,
          asOfSeq: -1,
          shardAsOf: new Array<number>(e.shards).fill(-1),
          anchored: 0,
          encrypted: e.encryption ? { decryption: null, tally: null } : null,
          listeners: new Set<Listener>(),
          running: null,
          again: false,
        };
      });
      this.elections.set(electionId, s);
      // Unknown elections and failed loads are not cached: the election may be created later.
      s.then(
        (v) => {
          if (!v) this.elections.delete(electionId);
        },
        () => this.elections.delete(electionId),
      );
    }
    return s;
  }

  private snapshot(t: ElectionTally): LiveResults {
    if (t.encrypted) {
      const { tally, decryption } = t.encrypted;
      return {
        electionId: t.electionId,
        tally,
        totalBallots: t.total,
        anchoredBallots: t.anchored,
        asOfSeq: t.asOfSeq,
        contests:
          tally === null
            ? null
            : Object.fromEntries(t.manifest.contests.map((c) => [c.id, { ballotsCounted: t.total, blank: null }])),
        ballotMode: 'encrypted',
        decryption,
      };
    }
    // Object.fromEntries defines own properties: no id (`constructor`, …) can reach a prototype.
    const tally: Tally = Object.fromEntries([...t.counts].map(([c, choices]) => [c, Object.fromEntries(choices)]));
    const contests: ContestCounts = Object.fromEntries([...t.contests].map(([c, n]) => [c, { ...n }]));
    return {
      electionId: t.electionId,
      tally,
      totalBallots: t.total,
      anchoredBallots: t.anchored,
      asOfSeq: t.asOfSeq,
      contests,
    };
  }

  /** The results as of now (catching up first); null for an unknown election. */
  async current(electionId: string): Promise<LiveResults | null> {
    const t = await this.state(electionId);
    if (!t) return null;
    return this.refresh(t);
  }

  /** Refresh, coalescing: callers arriving during a refresh share the one that follows it. */
  private refresh(t: ElectionTally): Promise<LiveResults> {
    if (t.running) {
      // The running refresh loops once more before it resolves, so it covers commits made before now.
      t.again = true;
      return t.running;
    }
    const run = async (): Promise<LiveResults> => {
      try {
        let changed = false;
        do {
          t.again = false;
          changed = (await this.catchUp(t)) || changed;
        } while (t.again);
        const r = this.snapshot(t);
        if (changed) for (const l of t.listeners) l(r);
        return r;
      } finally {
        t.running = null;
      }
    };
    t.running = run();
    return t.running;
  }

  /** Ballots anchored, over every cluster holding the election's shards. */
  private async anchoredCount(electionId: string, shards: number): Promise<number> {
    let n = 0;
    for (const sql of this.clusters.clustersOf(shards)) n += await anchoredBallotCount(sql, electionId);
    return n;
  }

  /** Count ballots committed since the last refresh; true when anything changed. */
  private async catchUp(t: ElectionTally): Promise<boolean> {
    if (t.encrypted) return this.catchUpEncrypted(t, t.encrypted);
    const before = { total: t.total, anchored: t.anchored };
    // Everything below a shard's next_seq is committed: seq is assigned and next_seq moved in the same
    // transaction. Each shard is followed on its own.
    const shards = t.shardAsOf.length;
    const targets = await shardCommittedCountsOnClusters(this.clusters, t.electionId, shards);
    for (let shard = 0; shard < shards; shard++) {
      const target = (targets[shard] ?? 0) - 1;
      const sql = this.clusters.sqlFor(shard, shards);
      while (t.shardAsOf[shard]! < target) {
        const rows = await ballotsAfter(sql, t.electionId, t.shardAsOf[shard]!, target, this.pageSize, shard);
        if (rows.length === 0) break;
        for (const r of rows) this.count(t, r.ballotJcs);
        t.shardAsOf[shard] = rows[rows.length - 1]!.seq;
      }
    }
    t.asOfSeq = t.shardAsOf.length === 1 ? t.shardAsOf[0]! : t.total - 1;
    t.anchored = await this.anchoredCount(t.electionId, shards);
    return t.total !== before.total || t.anchored !== before.anchored;
  }

  /** Turnout from the head (no ballot is read), and the decryption's progress; true when anything changed. */
  private async catchUpEncrypted(t: ElectionTally, enc: NonNullable<ElectionTally['encrypted']>): Promise<boolean> {
    const before = JSON.stringify([t.asOfSeq, t.anchored, enc.decryption]);
    const shards = t.shardAsOf.length;
    const committed = (await shardCommittedCountsOnClusters(this.clusters, t.electionId, shards)).reduce(
      (a, b) => a + b,
      0,
    );
    t.total = committed;
    t.asOfSeq = committed - 1;
    t.anchored = await this.anchoredCount(t.electionId, shards);
    const progress = await decryptionProgress(this.sql, t.electionId);
    if (progress) {
      const result = progress.result;
      enc.decryption = {
        status: result ? 'complete' : 'waiting',
        threshold: t.manifest.threshold ?? 0,
        received: progress.received,
        aggregateHash: progress.aggregateHash,
      };
      // In manifest order, as a plaintext tally lists them (the stored result is JCS: keys sorted).
      enc.tally = result
        ? Object.fromEntries(
            t.manifest.contests.map((c) => [
              c.id,
              Object.fromEntries(c.choices.map((k) => [k.id, result.tally[c.id]?.[k.id] ?? 0])),
            ]),
          )
        : null;
    }
    return JSON.stringify([t.asOfSeq, t.anchored, enc.decryption]) !== before;
  }

  private count(t: ElectionTally, ballotJcs: string): void {
    const { selections } = JSON.parse(ballotJcs) as { selections: Record<string, string[]> };
    for (const [contest, choices] of Object.entries(selections)) {
      const c = t.counts.get(contest);
      const n = t.contests.get(contest);
      if (!c || !n) continue; // impossible for an accepted ballot: selections were checked against the manifest
      for (const k of choices) c.set(k, (c.get(k) ?? 0) + 1);
      n.ballotsCounted++;
      if (choices.length === 0) n.blank++;
    }
    t.total++;
  }

  /** Follow an election: `listener` gets the results now and after every change. Returns unsubscribe (null: unknown election). */
  async subscribe(electionId: string, listener: Listener): Promise<(() => void) | null> {
    const t = await this.state(electionId);
    if (!t) return null;
    t.listeners.add(listener);
    this.ensurePolling();
    listener(await this.refresh(t));
    return () => t.listeners.delete(listener);
  }

  /** A ballot of this election was just committed by this process: refresh soon if anyone is listening. */
  poke(electionId: string): void {
    const s = this.elections.get(electionId);
    if (!s) return;
    void s.then((t) => {
      if (t && t.listeners.size > 0) this.refresh(t).catch((err: Error) => this.opts.onError?.(err));
    });
  }

  private ensurePolling(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let listening = 0;
    for (const s of this.elections.values()) {
      const t = await s.catch(() => null);
      if (!t || t.listeners.size === 0) continue;
      listening++;
      if (!t.running) await this.refresh(t).catch((err: Error) => this.opts.onError?.(err));
    }
    if (listening === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
