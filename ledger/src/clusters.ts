// A sharded election spread over several clusters (db/clusters.ts): what must happen on each cluster, and
// the reads that combine them. The home cluster holds the election's record and everything election-wide;
// every cluster holding one of its shards holds a copy of the record and of the frozen roll (so that the
// credential checks of a ballot stay on its shard's cluster), one head per shard (only its own shards'
// heads move there), and its shards' ballots and windows. An election of one shard, or a ledger of one
// cluster, is the home alone: each function here is then the plain one.
import type { KeyObject } from 'node:crypto';
import type { Sql } from 'postgres';
import { shardCommittedCounts } from './export.js';
import { electionsToReconcile, lastUnanchoredWindow, sealedWindows, type ElectionToReconcile } from './anchoring.js';
import { ProtocolError } from './protocol/errors.js';
import { shardCount } from './protocol/shards.js';
import type { Manifest } from './protocol/protocol.js';
import type { LedgerClusters } from './db/clusters.js';
import { createElection, insertKeys, type CreatedElection } from './elections/create.js';
import { finalizeRoll } from './elections/roll.js';
import { electionShardCount, rollPages } from './elections/read.js';
import { listWindows } from './windows/proofs.js';
import { receiptWithLeafTile, type ReceiptLookup } from './windows/tiles.js';
import type { SealedWindow } from './windows/rows.js';

/** createElection on the home, then on every other cluster holding a shard of it (same manifest and keys). */
export async function createElectionOnClusters(
  clusters: LedgerClusters,
  manifest: Manifest,
  sortedKeys: readonly Buffer[],
  opts: { pending?: boolean } = {},
): Promise<CreatedElection> {
  const shards = shardCount(manifest);
  if (manifest.version === 2 && shards > 1 && clusters.count > 1)
    throw new ProtocolError(
      'invalid-manifest',
      'an encrypted election of several shards cannot be spread over several clusters yet: give it one shard',
    );
  const created = await createElection(clusters.home, manifest, sortedKeys, opts);
  for (const sql of clusters.clustersOf(shards).slice(1)) {
    const copy = await createElection(sql, manifest, sortedKeys, opts);
    if (copy.manifestHash !== created.manifestHash)
      throw new Error(`election ${manifest.electionId}: another manifest is on a shard cluster`);
  }
  return created;
}

/**
 * finalizeRoll on the home, then the frozen roll copied to every other cluster holding a shard (keys
 * streamed from the home, inserted if missing) and frozen there too, checked to give the same root. A roll
 * streamed in parts is uploaded to the home only; this is where the other clusters get it. Idempotent.
 */
export async function finalizeRollOnClusters(
  clusters: LedgerClusters,
  electionId: string,
): Promise<{ rollRoot: string; rollSize: number }> {
  const home = await finalizeRoll(clusters.home, electionId);
  const shards = await electionShardCount(clusters.home, electionId);
  for (const sql of clusters.clustersOf(shards).slice(1)) {
    const [there] = await sql`SELECT roll_root FROM elections WHERE election_id = ${electionId}`;
    if (!there) throw new Error(`election ${electionId} is not on every cluster holding its shards`);
    if (there.roll_root === null) {
      for await (const page of rollPages(clusters.home, electionId)) {
        const keys = page
          .trim()
          .split('\n')
          .map((line) => Buffer.from(JSON.parse(line) as string, 'hex'));
        await sql.begin((tx) => insertKeys(tx, electionId, keys));
      }
    }
    const copy = await finalizeRoll(sql, electionId);
    if (copy.rollRoot !== home.rollRoot)
      throw new Error(
        `election ${electionId}: the roll on a shard cluster has root ${copy.rollRoot}, not ${home.rollRoot}`,
      );
  }
  return home;
}

/** Each shard's next_seq, read on the shard's own cluster; [] for no election. */
export async function shardHeadsOnClusters(
  clusters: LedgerClusters,
  electionId: string,
  /** The election's shard count when the caller knows it (else read from the home). */
  knownShards?: number,
): Promise<{ nextSeq: number; sealedThrough: number; windows: number }[]> {
  const shards = knownShards ?? (await electionShardCount(clusters.home, electionId));
  const out: { nextSeq: number; sealedThrough: number; windows: number }[] = [];
  const byCluster = new Map<Sql, Map<number, { nextSeq: number; sealedThrough: number; windows: number }>>();
  for (const sql of clusters.clustersOf(shards)) {
    const rows = await sql`SELECT shard, next_seq, sealed_through, next_window_index FROM election_heads
                           WHERE election_id = ${electionId}`;
    byCluster.set(
      sql,
      new Map(
        rows.map((r) => [
          Number(r.shard),
          {
            nextSeq: Number(r.next_seq),
            sealedThrough: Number(r.sealed_through),
            windows: Number(r.next_window_index),
          },
        ]),
      ),
    );
  }
  for (let s = 0; s < shards; s++) {
    const head = byCluster.get(clusters.sqlFor(s, shards))?.get(s);
    if (!head) {
      if (s === 0) return [];
      throw new Error(`election ${electionId}: no head for shard ${s} on its cluster`);
    }
    out.push(head);
  }
  return out;
}

/**
 * Each shard's committed count (next_seq), read where the shard is: one query on the home when the ledger
 * has one cluster or the election one shard, else shardHeadsOnClusters. [] for no election.
 */
export async function shardCommittedCountsOnClusters(
  clusters: LedgerClusters,
  electionId: string,
  /** The election's shard count when the caller knows it. */
  knownShards?: number,
): Promise<number[]> {
  if (clusters.count === 1 || knownShards === 1) return shardCommittedCounts(clusters.home, electionId);
  return (await shardHeadsOnClusters(clusters, electionId, knownShards)).map((h) => h.nextSeq);
}

/** A receipt found on one cluster, with its window and level-0 tile (receiptWithLeafTile), and that cluster. */
export interface FoundReceipt extends ReceiptLookup {
  sql: Sql;
}

/** receiptWithLeafTile on each cluster in turn (a ballot hash is on at most one: it names its election). */
export async function receiptLookupOnClusters(
  clusters: LedgerClusters,
  ledgerKey: { privateKey: KeyObject },
  ballotHashHex: string,
): Promise<FoundReceipt | null> {
  for (const sql of clusters.all) {
    const r = await receiptWithLeafTile(sql, ledgerKey, ballotHashHex);
    if (r) return { ...r, sql };
  }
  return null;
}

/**
 * lastUnanchoredWindow over every cluster: null when every sealed window of every shard is anchored, else
 * a number growing with every window sealed anywhere (the windows sealed in all, minus one).
 */
export async function lastUnanchoredWindowOnClusters(
  clusters: LedgerClusters,
  electionId: string,
): Promise<number | null> {
  if (clusters.count === 1) return lastUnanchoredWindow(clusters.home, electionId);
  let sealed = 0;
  let waiting = false;
  for (const sql of clusters.all) {
    const here = await sealedWindows(sql, electionId);
    sealed += here.sealed;
    waiting ||= here.waiting;
  }
  return waiting ? sealed - 1 : null;
}

/**
 * electionsToReconcile over every cluster: the elections are the home's; a sharded election is unanchored
 * or overdue when it is so on any cluster holding its shards (each cluster holds its copy of the record,
 * so the same query answers there for its own shards).
 */
export async function electionsToReconcileOnClusters(clusters: LedgerClusters): Promise<ElectionToReconcile[]> {
  const home = await electionsToReconcile(clusters.home);
  if (clusters.count === 1) return home;
  const sharded = new Map(home.filter((r) => r.shards > 1).map((r) => [r.electionId, r]));
  if (sharded.size === 0) return home;
  for (const sql of clusters.others) {
    for (const r of await electionsToReconcile(sql)) {
      const mine = sharded.get(r.electionId);
      if (!mine) continue;
      mine.unanchored ||= r.unanchored;
      mine.overdue ||= r.overdue;
    }
  }
  return home;
}

/**
 * Window `index` of a shard, read on the shard's cluster, with the election's shard count: 'unknown-election'
 * when there is no such election, null when the shard or the window does not exist (yet).
 */
export async function sealedWindowOnClusters(
  clusters: LedgerClusters,
  electionId: string,
  shard: number,
  index: number,
): Promise<{ window: SealedWindow; shards: number } | 'unknown-election' | null> {
  const [election] = await clusters.home`SELECT shards FROM elections WHERE election_id = ${electionId}`;
  if (!election) return 'unknown-election';
  const shards = Number(election.shards);
  if (shard >= shards) return null;
  const [w] = await listWindows(clusters.sqlFor(shard, shards), electionId, { shard, fromIndex: index, limit: 1 });
  return w && w.index === index ? { window: w, shards } : null;
}
