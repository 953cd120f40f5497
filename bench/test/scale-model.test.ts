// The scale model's arithmetic (bench/scale-model.ts) on small cases computed by hand.
import { describe, expect, it } from 'vitest';
import {
  type Assumptions,
  type BallotCosts,
  ceilCount,
  costsFrom,
  headBallotsPerSecond,
  plan,
  postgresCpuPerBallot,
  scenarios,
  shardBatch,
} from '../scale-model.js';

// 100 µs of API CPU (50 on the main thread) and 1,000 WAL bytes per ballot; a head transaction of B ballots
// takes 9 ms + 0.1 ms × B and 1,000 µs + 30 µs × B of PostgreSQL CPU.
const costs: BallotCosts = {
  apiCpuSeconds: 100e-6,
  apiMainThreadCpuSeconds: 50e-6,
  walBytes: 1000,
  transaction: { fixedMs: 9, perBallotMs: 0.1 },
  postgresCpu: { perTransactionSeconds: 1000e-6, perBallotSeconds: 30e-6 },
  anchorWindowGas: 80_000,
  anchorIntervalGas: 81_000,
};
// Half of every resource used; 1 ms for the standby (so T(B) = 10 ms + 0.1 ms × B); clusters of 4
// PostgreSQL cores and 10 MB/s of WAL; batches of at most 2,000; 60 s windows.
const a: Assumptions = {
  headroom: 0.5,
  standbyRoundTripMs: 1,
  postgresCoresPerCluster: 4,
  walBytesPerSecondPerCluster: 10e6,
  maxBatch: 2000,
  windowSeconds: 60,
  maxShards: 1024,
};
const at = (ballotsPerSecond: number) => ({
  name: 'test',
  ballotsPerSecond,
  seconds: 10,
  ballots: ballotsPerSecond * 10,
  note: '',
});

describe('scale model', () => {
  it('rounds counts up, forgiving floating-point noise, and never below one', () => {
    expect(ceilCount((3 * 0.1) / 0.1)).toBe(3); // 3.0000000000000004 in floating point
    expect(ceilCount(2.01)).toBe(3);
    expect(ceilCount(0)).toBe(1);
  });

  it("one head: full batches of 2,000 in 210 ms; a shard's batch is what arrives during a transaction", () => {
    expect(headBallotsPerSecond(costs, a)).toBeCloseTo(2000 / 0.21, 6);
    // 5,000/s: B = 5,000 × 10 ms / (1 − 5,000 × 0.1 ms) = 50 / 0.5 = 100.
    expect(shardBatch(costs, a, 5_000)).toBeCloseTo(100, 9);
    // 10,000/s: a ballot's 0.1 ms alone fills the head: full batches.
    expect(shardBatch(costs, a, 10_000)).toBe(2000);
    // 50/s: 0.5 ballots per transaction time, so transactions of one.
    expect(shardBatch(costs, a, 50)).toBe(1);
    // 100 per transaction: 30 µs + 1,000 µs / 100 = 40 µs a ballot.
    expect(postgresCpuPerBallot(costs, 100)).toBeCloseTo(40e-6, 12);
  });

  it('10,000 ballots/s: 2 API cores, 1 process, 2 clusters by WAL, 4 shards, intervals', () => {
    const p = plan(at(10_000), costs, a);
    // 10,000 × 100 µs = 1 core at 50 % → 2; 10,000 × 50 µs = 0.5 of a main thread at 50 % → 1.
    expect(p.api).toMatchObject({ cores: 2, processes: 1 });
    // Heads: 10,000 / (9,523.8 × 0.5) = 2.1 → 3, then 4, a multiple of the 2 clusters WAL asks for
    // (10 MB/s over 10 MB/s × 0.5). At 2,500/s a shard: B = 25 / 0.75 = 33.3; 30 + 30 = 60 µs a ballot,
    // 0.6 cores over 4 × 0.5 → 1 cluster by CPU.
    expect(p.shards).toMatchObject({ count: 4, byHeads: 3 });
    expect(p.shards.ballotsPerTransaction).toBeCloseTo(100 / 3, 9);
    expect(p.clusters).toMatchObject({ count: 2, byCpu: 1, byWal: 2, limit: 'WAL bytes/s per cluster' });
    expect(p.postgres.cpuMicrosPerBallot).toBeCloseTo(60, 9);
    expect(p.postgres.coresInUse).toBeCloseTo(0.6, 12);
    // One interval per 60 s pass: 1 tx and 81,000 gas a minute; a window per shard would be 4 and 320,000.
    expect(p.chain).toMatchObject({
      anchoring: 'interval',
      transactionsPerMinute: 1,
      gasPerMinute: 81_000,
      ballotsPerTransaction: 600_000,
      perShardWindowTransactionsPerMinute: 4,
      perShardWindowGasPerMinute: 320_000,
    });
    expect(p.totals).toEqual({ ballots: 100_000, walBytes: 100_000_000 });
    expect(p.problems).toEqual([]);
  });

  it('1,000 ballots/s: one shard on one cluster anchors windows', () => {
    const p = plan(at(1_000), costs, a);
    // B = 1,000 × 10 ms / 0.9 = 11.1; 30 + 90 = 120 µs a ballot.
    expect(p.shards.count).toBe(1);
    expect(p.shards.ballotsPerTransaction).toBeCloseTo(100 / 9, 9);
    expect(p.postgres.cpuMicrosPerBallot).toBeCloseTo(120, 9);
    expect(p.clusters).toMatchObject({ count: 1, limit: 'none: one cluster takes it' });
    expect(p.shards.limit).toBe('none: one head takes it');
    expect(p.chain).toMatchObject({ anchoring: 'window', transactionsPerMinute: 1, gasPerMinute: 80_000 });
  });

  it('dear transactions: more clusters, so more shards, so smaller batches, until transactions of one', () => {
    // 20 ms of PostgreSQL CPU a transaction, 1 core a cluster, WAL negligible. 3 shards: B = 50, 430 µs a
    // ballot, 5 clusters; 5 shards: B = 25, 830 µs, 9; … until B = 1: 20,030 µs, 200.3 cores → 201 clusters
    // and 201 shards, where 49.8 ballots/s a shard still make transactions of one.
    const dear = { ...costs, walBytes: 10, postgresCpu: { perTransactionSeconds: 0.02, perBallotSeconds: 30e-6 } };
    const p = plan(at(10_000), dear, { ...a, postgresCoresPerCluster: 2 });
    expect(p.shards.ballotsPerTransaction).toBe(1);
    expect(p.clusters).toMatchObject({ count: 201, byCpu: 201, byWal: 1, limit: 'PostgreSQL CPU per cluster' });
    expect(p.shards.count).toBe(201);
  });

  it('names a plan over the protocol’s shard limit', () => {
    expect(plan(at(10_000), costs, { ...a, maxShards: 2 }).problems).toEqual(["4 shards is over the protocol's 2"]);
  });

  it('the three scenarios: the day at its peak factor, the two rates as given', () => {
    const [day, sustained, burst] = scenarios(10);
    expect(day!.ballotsPerSecond).toBeCloseTo((8_000_000 / 86_400) * 10, 9);
    expect(day!.ballots).toBe(8_000_000);
    expect(sustained!.ballotsPerSecond).toBe(250_000);
    expect(burst).toMatchObject({ ballotsPerSecond: 1_000_000, seconds: 60, ballots: 60_000_000 });
    expect(scenarios(2)[0]!.ballotsPerSecond).toBeCloseTo(8_000_000 / 43_200, 9);
  });

  it('reads the result files: µs to seconds, the fit as measured, the largest gas of each call', () => {
    const c = costsFrom(
      {
        votesPerSecond: 1,
        verifyCeilingPerSecond: 1,
        at: '',
        perBallot: {
          apiCpuMicros: 300,
          apiMainThreadCpuMicros: 120,
          postgresCpuMicros: 50,
          walBytes: 900,
          walBytesSource: '',
        },
        ingestTransactions: { meanSize: 90, meanMs: 20 },
        serialHeadFit: {
          transactionMs: { fixed: 8, perBallot: 0.11 },
          postgresCpuMicros: { perTransaction: 1400, perBallot: 40 },
        },
      },
      {
        transactions: [
          { operation: 'anchorWindow #0', total: 79_400 },
          { operation: 'anchorWindow #1', total: 79_500 },
          { operation: 'anchorInterval #0', total: 79_700 },
          { operation: 'closeElection', total: 54_000 },
        ],
      },
    );
    expect(c).toEqual({
      apiCpuSeconds: 300e-6,
      apiMainThreadCpuSeconds: 120e-6,
      walBytes: 900,
      transaction: { fixedMs: 8, perBallotMs: 0.11 },
      postgresCpu: { perTransactionSeconds: 1400e-6, perBallotSeconds: 40e-6 },
      anchorWindowGas: 79_500,
      anchorIntervalGas: 79_700,
    });
  });
});
