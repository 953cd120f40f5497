// What it takes to carry three loads, computed from the per-ballot costs measured on this machine
// (bench/results/ballot-cost.json) and the contract's gas (bench/results/contract-gas.json): API cores and
// processes, shards, PostgreSQL clusters, chain transactions and gas per minute, and what limits each.
// A computation only: it reads those two files, prints its inputs and a table, and writes
// bench/results/scale-model.json. docs/scaling.md explains the figures; bench/test/scale-model.test.ts
// checks the arithmetic.
//
//   npx tsx bench/scale-model.ts [--out bench/results/scale-model.json]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** What one ballot costs, measured (bench/ballot-cost.ts) or read (contract-gas.json). */
export interface BallotCosts {
  /** CPU seconds of the API process per ballot: main thread, verify and receipt-signing threads. */
  apiCpuSeconds: number;
  /** CPU seconds of the API's main thread per ballot: one process takes at most 1/this ballots/s. */
  apiMainThreadCpuSeconds: number;
  /** WAL bytes per ballot. */
  walBytes: number;
  /** One shard head's ingest transaction of B ballots, alone: fixedMs + perBallotMs × B. */
  transaction: { fixedMs: number; perBallotMs: number };
  /** PostgreSQL CPU of one ingest transaction of B ballots: perTransactionSeconds + perBallotSeconds × B. */
  postgresCpu: { perTransactionSeconds: number; perBallotSeconds: number };
  /** Total gas of one anchorWindow transaction (one window of one shard). */
  anchorWindowGas: number;
  /** Total gas of one anchorInterval transaction (every shard's windows of one anchor pass). */
  anchorIntervalGas: number;
}

/** What the model assumes rather than measures; printed with every run and stated in docs/scaling.md. */
export interface Assumptions {
  /** Every resource is planned at this fraction of what it can do (queues stay short, a node may fail). */
  headroom: number;
  /** Added to every head transaction: COMMIT waits for the synchronous standby's flush. */
  standbyRoundTripMs: number;
  /** Cores of one cluster's primary given to PostgreSQL. */
  postgresCoresPerCluster: number;
  /** WAL one cluster's primary and its synchronous standby take per second. */
  walBytesPerSecondPerCluster: number;
  /** The most ballots in one ingest transaction (the Ingestor's maxBatch). */
  maxBatch: number;
  /** The election's anchor period (windowSeconds). */
  windowSeconds: number;
  /** The most shards an election may have (docs/protocol.md 13.1). */
  maxShards: number;
}

export interface Scenario {
  name: string;
  /** The rate the system must take (ballots/s): acknowledged after COMMIT, so nothing buffers a peak. */
  ballotsPerSecond: number;
  /** How long that rate lasts, for the totals. */
  seconds: number;
  /** Ballots in all. */
  ballots: number;
  note: string;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  headroom: 0.7,
  standbyRoundTripMs: 1,
  postgresCoresPerCluster: 16,
  walBytesPerSecondPerCluster: 100e6,
  maxBatch: 2000,
  windowSeconds: 60,
  maxShards: 1024,
};

/**
 * The busiest minute of a day-long election, as a multiple of the day's mean rate. Turnout is not spread
 * over 24 hours: nearly nothing at night, peaks in the evening and before the close, and the busiest minute
 * above its hour. 10 × the mean is a deliberate overestimate of those combined (the busiest hour of a
 * day-long poll is of the order of 2–3 × the mean, its busiest minute above that).
 */
export const DAY_PEAK_FACTOR = 10;

export function scenarios(dayPeakFactor = DAY_PEAK_FACTOR): Scenario[] {
  const day = 86_400;
  return [
    {
      name: '8 million votes in 24 hours',
      ballotsPerSecond: (8_000_000 / day) * dayPeakFactor,
      seconds: day,
      ballots: 8_000_000,
      note: `peak minute = ${dayPeakFactor} × the 24-hour mean of ${(8_000_000 / day).toFixed(1)}/s`,
    },
    {
      name: '250,000 votes/s sustained',
      ballotsPerSecond: 250_000,
      seconds: 3_600,
      ballots: 250_000 * 3_600,
      note: 'totals for one hour',
    },
    {
      name: '1,000,000 votes/s for one minute',
      ballotsPerSecond: 1_000_000,
      seconds: 60,
      ballots: 60_000_000,
      note: 'a 201 follows COMMIT, so the burst is provisioned for, not queued',
    },
  ];
}

/** ceil, forgiving the last bits of floating point ((3 × 0.1) / 0.1 is 3.0000000000000004: 3, not 4). */
export function ceilCount(x: number): number {
  return Math.max(1, Math.ceil(x - 1e-9));
}

/** Seconds one head transaction of `ballots` takes, the standby's round trip included. */
export function transactionSeconds(costs: BallotCosts, a: Assumptions, ballots: number): number {
  return (costs.transaction.fixedMs + a.standbyRoundTripMs + costs.transaction.perBallotMs * ballots) / 1000;
}

/** The most ballots/s one shard head takes: full batches, one after another. */
export function headBallotsPerSecond(costs: BallotCosts, a: Assumptions): number {
  return a.maxBatch / transactionSeconds(costs, a, a.maxBatch);
}

/**
 * Ballots per transaction at a shard taking `ballotsPerSecond`: what arrives while the previous transaction
 * runs, B = rate × T(B), so B = rate × T(0) / (1 − rate × perBallot); from 1 to maxBatch. (The Ingestor's
 * 2 ms gathering delay and the lock waits of several API processes only make batches larger: left out.)
 */
export function shardBatch(costs: BallotCosts, a: Assumptions, ballotsPerSecond: number): number {
  const fixed = transactionSeconds(costs, a, 0);
  const room = 1 - (ballotsPerSecond * costs.transaction.perBallotMs) / 1000;
  if (room <= 0) return a.maxBatch;
  return Math.min(a.maxBatch, Math.max(1, (ballotsPerSecond * fixed) / room));
}

/** PostgreSQL CPU seconds per ballot in transactions of `batch` ballots. */
export function postgresCpuPerBallot(costs: BallotCosts, batch: number): number {
  return costs.postgresCpu.perBallotSeconds + costs.postgresCpu.perTransactionSeconds / batch;
}

export interface Plan {
  scenario: string;
  ballotsPerSecond: number;
  api: { cores: number; processes: number; limit: string };
  shards: {
    count: number;
    byHeads: number;
    perShardBallotsPerSecond: number;
    ballotsPerTransaction: number;
    limit: string;
  };
  clusters: { count: number; byCpu: number; byWal: number; limit: string };
  postgres: { cpuMicrosPerBallot: number; coresInUse: number; walBytesPerSecond: number };
  chain: {
    anchoring: 'window' | 'interval';
    transactionsPerMinute: number;
    gasPerMinute: number;
    ballotsPerTransaction: number;
    /** Were every shard's windows anchored one by one (anchorWindow): the transactions that would take. */
    perShardWindowTransactionsPerMinute: number;
    perShardWindowGasPerMinute: number;
    limit: string;
  };
  totals: { ballots: number; walBytes: number };
  problems: string[];
}

export function plan(s: Scenario, costs: BallotCosts, a: Assumptions): Plan {
  const rate = s.ballotsPerSecond;
  const apiCores = ceilCount((rate * costs.apiCpuSeconds) / a.headroom);
  const apiProcesses = ceilCount((rate * costs.apiMainThreadCpuSeconds) / a.headroom);

  const perShard = headBallotsPerSecond(costs, a);
  const byHeads = ceilCount(rate / (perShard * a.headroom));
  const walPerSecond = rate * costs.walBytes;
  const byWal = ceilCount(walPerSecond / (a.walBytesPerSecondPerCluster * a.headroom));
  // Shards and clusters depend on each other: shard s lives on cluster s mod K, so there are at least K
  // shards and a multiple of K (every cluster carries as many; a shard's load is an even share, its
  // credentials being hashed to it); more shards make smaller transactions, which cost PostgreSQL more per
  // ballot, which may ask for more clusters. Grown together until neither changes.
  let shards = byHeads;
  let clusters = byWal;
  let batch = 0;
  let pgPerBallot = 0;
  let byCpu = 0;
  const problems: string[] = [];
  for (let round = 0; ; round++) {
    batch = shardBatch(costs, a, rate / shards);
    pgPerBallot = postgresCpuPerBallot(costs, batch);
    byCpu = ceilCount((rate * pgPerBallot) / (a.postgresCoresPerCluster * a.headroom));
    const nextClusters = Math.max(byCpu, byWal, clusters);
    const nextShards = Math.ceil(Math.max(byHeads, shards, nextClusters) / nextClusters) * nextClusters;
    if (nextClusters === clusters && nextShards === shards) break;
    [clusters, shards] = [nextClusters, nextShards];
    if (round === 100) {
      problems.push('shards and clusters did not settle in 100 rounds');
      break;
    }
  }
  if (shards > a.maxShards) problems.push(`${shards} shards is over the protocol's ${a.maxShards}`);

  const passesPerMinute = 60 / a.windowSeconds;
  const anchoring = shards > 1 ? 'interval' : 'window';
  const gasPerTransaction = anchoring === 'interval' ? costs.anchorIntervalGas : costs.anchorWindowGas;
  const fixedMs = costs.transaction.fixedMs + a.standbyRoundTripMs;
  return {
    scenario: s.name,
    ballotsPerSecond: rate,
    api: {
      cores: apiCores,
      processes: apiProcesses,
      limit:
        `cores: ${(costs.apiCpuSeconds * 1e6).toFixed(0)} µs of CPU per ballot (verify, sign, main thread); ` +
        `processes: one main thread each, ${(costs.apiMainThreadCpuSeconds * 1e6).toFixed(0)} µs per ballot`,
    },
    shards: {
      count: shards,
      byHeads,
      perShardBallotsPerSecond: perShard,
      ballotsPerTransaction: batch,
      limit:
        shards === 1
          ? 'none: one head takes it'
          : byHeads >= clusters
            ? `one head's serial commits: ${a.maxBatch} ballots per ${(transactionSeconds(costs, a, a.maxBatch) * 1000).toFixed(1)} ms (${fixedMs.toFixed(1)} ms + ${costs.transaction.perBallotMs} ms a ballot, standby included)`
            : `a multiple of the ${clusters} clusters`,
    },
    clusters: {
      count: clusters,
      byCpu,
      byWal,
      limit:
        clusters === 1
          ? 'none: one cluster takes it'
          : byWal >= byCpu
            ? 'WAL bytes/s per cluster'
            : 'PostgreSQL CPU per cluster',
    },
    postgres: {
      cpuMicrosPerBallot: pgPerBallot * 1e6,
      coresInUse: rate * pgPerBallot,
      walBytesPerSecond: walPerSecond,
    },
    chain: {
      anchoring,
      transactionsPerMinute: passesPerMinute,
      gasPerMinute: passesPerMinute * gasPerTransaction,
      ballotsPerTransaction: rate * a.windowSeconds,
      perShardWindowTransactionsPerMinute: shards * passesPerMinute,
      perShardWindowGasPerMinute: shards * passesPerMinute * costs.anchorWindowGas,
      limit: 'none: one transaction per anchor pass whatever the rate and the shards; windowSeconds sets it',
    },
    totals: { ballots: s.ballots, walBytes: s.ballots * costs.walBytes },
    problems,
  };
}

// ---------------------------------------------------------------------------------------------------
// The run: read the measured costs, print them, the assumptions and the plans.

export interface BallotCostFile {
  votesPerSecond: number;
  verifyCeilingPerSecond: number;
  at: string;
  perBallot: {
    apiCpuMicros: number;
    apiMainThreadCpuMicros: number;
    postgresCpuMicros: number;
    walBytes: number;
    walBytesSource: string;
  };
  ingestTransactions: { meanSize: number; meanMs: number };
  serialHeadFit: {
    transactionMs: { fixed: number; perBallot: number };
    postgresCpuMicros: { perTransaction: number; perBallot: number };
  };
}

export interface GasFile {
  transactions: { operation: string; total: number }[];
}

/** The largest total gas of the transactions whose operation starts with `prefix`. */
export function gasOf(gas: GasFile, prefix: string): number {
  const totals = gas.transactions.filter((t) => t.operation.startsWith(prefix)).map((t) => t.total);
  if (totals.length === 0) throw new Error(`contract-gas.json has no ${prefix} transaction`);
  return Math.max(...totals);
}

/** The model's inputs from the two result files (µs to seconds). */
export function costsFrom(cost: BallotCostFile, gas: GasFile): BallotCosts {
  const fit = cost.serialHeadFit;
  return {
    apiCpuSeconds: cost.perBallot.apiCpuMicros / 1e6,
    apiMainThreadCpuSeconds: cost.perBallot.apiMainThreadCpuMicros / 1e6,
    walBytes: cost.perBallot.walBytes,
    transaction: { fixedMs: fit.transactionMs.fixed, perBallotMs: fit.transactionMs.perBallot },
    postgresCpu: {
      perTransactionSeconds: fit.postgresCpuMicros.perTransaction / 1e6,
      perBallotSeconds: fit.postgresCpuMicros.perBallot / 1e6,
    },
    anchorWindowGas: gasOf(gas, 'anchorWindow'),
    anchorIntervalGas: gasOf(gas, 'anchorInterval'),
  };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: fileURLToPath(new URL('./results/scale-model.json', import.meta.url)) },
    },
  });
  const results = fileURLToPath(new URL('./results/', import.meta.url));
  const cost = JSON.parse(readFileSync(join(results, 'ballot-cost.json'), 'utf8')) as BallotCostFile;
  const gas = JSON.parse(readFileSync(join(results, 'contract-gas.json'), 'utf8')) as GasFile;
  const costs = costsFrom(cost, gas);
  const a = DEFAULT_ASSUMPTIONS;
  const list = scenarios();
  const plans = list.map((s) => plan(s, costs, a));
  // The fit checked against the saturated HTTP run: PostgreSQL CPU per ballot at that run's batch size.
  const httpBatch = cost.ingestTransactions.meanSize;
  const fitAtHttpBatch = postgresCpuPerBallot(costs, httpBatch) * 1e6;

  console.log(
    `inputs: bench/results/ballot-cost.json (${cost.at}; ${fmt(cost.votesPerSecond)} votes/s, verify ceiling ${fmt(cost.verifyCeilingPerSecond)}/s in that run) and contract-gas.json`,
  );
  console.log(
    `  API ${(costs.apiCpuSeconds * 1e6).toFixed(1)} µs/ballot, main thread ${(costs.apiMainThreadCpuSeconds * 1e6).toFixed(1)} µs; WAL ${costs.walBytes} bytes/ballot (${cost.perBallot.walBytesSource})`,
  );
  console.log(
    `  one head's transaction of B ballots: ${costs.transaction.fixedMs} ms + ${costs.transaction.perBallotMs} ms × B; PostgreSQL CPU ${(costs.postgresCpu.perTransactionSeconds * 1e6).toFixed(0)} µs + ${(costs.postgresCpu.perBallotSeconds * 1e6).toFixed(1)} µs × B`,
  );
  console.log(
    `  check: at the HTTP run's ${httpBatch} ballots per transaction that is ${fitAtHttpBatch.toFixed(1)} µs of PostgreSQL CPU per ballot; the run measured ${cost.perBallot.postgresCpuMicros}`,
  );
  console.log(`  gas: anchorWindow ${fmt(costs.anchorWindowGas)}, anchorInterval ${fmt(costs.anchorIntervalGas)}`);
  console.log(
    `assumptions: headroom ${a.headroom}, standby round trip ${a.standbyRoundTripMs} ms, ${a.postgresCoresPerCluster} PostgreSQL cores and ${a.walBytesPerSecondPerCluster / 1e6} MB/s of WAL per cluster, maxBatch ${a.maxBatch}, windowSeconds ${a.windowSeconds}, day peak factor ${DAY_PEAK_FACTOR}`,
  );
  console.log('');
  console.log(
    '| scenario | ballots/s | API cores | API processes | shards | ballots/transaction | clusters (by CPU / by WAL) | chain tx/min | gas/min |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of plans) {
    console.log(
      `| ${p.scenario} | ${fmt(p.ballotsPerSecond)} | ${p.api.cores} | ${p.api.processes} | ${p.shards.count} | ${fmt(p.shards.ballotsPerTransaction)} | ${p.clusters.count} (${p.clusters.byCpu} / ${p.clusters.byWal}) | ${p.chain.transactionsPerMinute} (${p.chain.anchoring}) | ${fmt(p.chain.gasPerMinute)} |`,
    );
  }
  console.log('');
  for (const p of plans) {
    console.log(`${p.scenario}:`);
    console.log(`  API: ${p.api.limit}`);
    console.log(`  shards: ${p.shards.limit}; ${fmt(p.shards.perShardBallotsPerSecond)}/s per shard at most`);
    console.log(
      `  clusters: ${p.clusters.limit} (${p.postgres.cpuMicrosPerBallot.toFixed(1)} µs a ballot: ${p.postgres.coresInUse.toFixed(1)} PostgreSQL cores, ${(p.postgres.walBytesPerSecond / 1e6).toFixed(1)} MB/s of WAL in all)`,
    );
    console.log(
      `  chain: ${p.chain.limit}; ${fmt(p.chain.ballotsPerTransaction)} ballots per transaction; a window per shard would be ${p.chain.perShardWindowTransactionsPerMinute} tx/min, ${fmt(p.chain.perShardWindowGasPerMinute)} gas/min`,
    );
    for (const problem of p.problems) console.log(`  PROBLEM: ${problem}`);
  }
  mkdirSync(results, { recursive: true });
  const out = {
    bench: 'scale-model',
    inputs: { ballotCost: { at: cost.at, ...cost.perBallot, serialHeadFit: cost.serialHeadFit }, costs },
    check: { httpRunBallotsPerTransaction: httpBatch, postgresCpuMicrosFromFit: Number(fitAtHttpBatch.toFixed(1)) },
    assumptions: { ...a, dayPeakFactor: DAY_PEAK_FACTOR },
    scenarios: list,
    plans,
    at: new Date().toISOString(),
  };
  writeFileSync(values.out!, `${JSON.stringify(out, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
