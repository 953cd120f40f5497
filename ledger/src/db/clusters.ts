// The PostgreSQL clusters a ledger is spread over (docs/operations.md, "Shards on several clusters"):
// cluster 0 is DATABASE_URL, the home of every election (its record, roll, trustees, intervals, close);
// clusters 1..K-1 come from TALLYPROOF_SHARD_DATABASE_URLS and hold shards of sharded elections. Shard s of
// any election lives on cluster s mod K: fixed by the configuration, so every API replica and the worker
// route a ballot to the same place without asking anyone. An election of one shard lives on the home only.
import type { Sql } from 'postgres';

export class LedgerClusters {
  readonly all: readonly Sql[];

  constructor(
    readonly home: Sql,
    readonly others: readonly Sql[] = [],
  ) {
    this.all = [home, ...others];
  }

  /** K, the number of clusters. */
  get count(): number {
    return this.all.length;
  }

  /** The cluster index of shard `shard` (of an election of `shards` shards: one shard is always home). */
  clusterOf(shard: number, shards: number): number {
    return shards === 1 ? 0 : shard % this.all.length;
  }

  /** The database holding shard `shard` of an election of `shards` shards. */
  sqlFor(shard: number, shards: number): Sql {
    return this.all[this.clusterOf(shard, shards)]!;
  }

  /** The clusters an election of `shards` shards has data on: home, and every cluster holding one of its shards. */
  clustersOf(shards: number): Sql[] {
    if (shards === 1) return [this.home];
    return this.all.slice(0, Math.min(shards, this.all.length));
  }

  /** A ShardSql for an election of `shards` shards. */
  shardSql(shards: number): (shard: number) => Sql {
    return (shard) => this.sqlFor(shard, shards);
  }
}

/** One cluster: the home alone (the default everywhere). */
export const singleCluster = (home: Sql): LedgerClusters => new LedgerClusters(home);
