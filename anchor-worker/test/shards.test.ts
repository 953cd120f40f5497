// A sharded election (docs/protocol.md section 13) through the worker on real anvil and PostgreSQL: each
// pass seals every shard's window and anchors them all in one anchorInterval transaction; every receipt
// proves on chain with verifyIntervalInclusion; the close puts the sum of the shards on chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { electionKey, TALLY_ANCHOR_INTERFACE } from '../../contracts/index.js';
import {
  Ingestor,
  LedgerClusters,
  auditPathFor,
  computeTally,
  createElectionOnClusters,
  intervalRecords,
  shardHeadsOnClusters,
  validateRoll,
  intervalInclusionFor,
  intervalsFrom,
  listWindows,
  resultHash,
  type Receipt,
} from '../../ledger/src/index.js';
import { startAnchorWorker, type AnchorWorker } from '../src/index.js';
import { Ballots, ledgerKey, startChain, waitFor, type TestChain } from './helpers.js';
import { VerifyPool } from '../../ledger/src/verify-pool.js';
import { ballotFor, selectionsFor, testManifest, voters } from '../../test/support/fixtures.js';

let db: TestDatabase;
let chain: TestChain;
let ballots: Ballots;

beforeAll(async () => {
  [db, chain] = await Promise.all([createTestDatabase(), startChain()]);
  ballots = new Ballots(db.app);
});

afterAll(async () => {
  await ballots?.close();
  chain?.provider.destroy();
  await chain?.node.stop();
  await db?.drop();
});

const electionRow = async (id: string) =>
  (await db.app`SELECT registration_tx, close_tx FROM elections WHERE election_id = ${id}`)[0]!;

/** Every window of every shard is sealed and anchored, and every ballot is in a window. */
async function everyShardAnchored(id: string): Promise<boolean> {
  const [r] = await db.app`
    SELECT sum(h.next_seq)::int AS n, bool_and(h.next_seq = h.sealed_through) AS sealed,
           (SELECT count(*) FROM windows w WHERE w.election_id = ${id} AND w.anchor_tx IS NULL)::int AS pending
    FROM election_heads h WHERE h.election_id = ${id}`;
  return r!.n > 0 && Boolean(r!.sealed) && r!.pending === 0;
}

describe('a sharded election through the anchor worker', () => {
  it('anchors every shard window in one transaction per interval, proves receipts on chain, closes with the sum', async () => {
    const id = 'sharded-worker';
    const S = 8;
    let worker: AnchorWorker | null = await startAnchorWorker({
      databaseUrl: db.appUrl,
      redisUrl: null,
      chainRpcUrl: chain.node.rpcUrl,
      chainPrivateKey: chain.anchorerKey,
      contractAddress: chain.address,
      reconcileIntervalMs: 500,
      log: () => {},
    });
    try {
      await ballots.election(db.app, id, 60, 1, { shards: S });
      await worker.requests.requestRegistration(id);
      await waitFor('registration', async () => (await electionRow(id)).registration_tx);

      const receipts: Receipt[] = [];
      for (let round = 0; round < 3; round++) {
        receipts.push(...(await ballots.cast(id, 20)));
        await waitFor('every shard anchored', () => everyShardAnchored(id), 60_000);
      }
      expect(new Set(receipts.map((r) => r.shard)).size).toBeGreaterThan(4);

      // The chain holds intervals only (no window anchored one by one), one event per interval, and the
      // ledger's intervals are exactly those.
      const key = electionKey(id);
      const intervals = await intervalsFrom(db.app, id);
      expect(intervals.length).toBeGreaterThanOrEqual(3);
      expect(Number(await chain.contract.intervalCount(key))).toBe(intervals.length);
      expect(Number(await chain.contract.windowCount(key))).toBe(0);
      const events = await chain.contract.queryFilter(chain.contract.filters.IntervalAnchored!(key), 0, 'latest');
      expect(events).toHaveLength(intervals.length);
      for (const i of intervals) {
        const onChain = await chain.contract.getInterval(key, i.index);
        expect([onChain.root, Number(onChain.windowCount), Number(onChain.ballotCount)]).toEqual([
          '0x' + i.root,
          i.windowCount,
          i.ballotCount,
        ]);
        const ev = events.find((e) => Number(TALLY_ANCHOR_INTERFACE.parseLog(e)!.args.intervalIndex) === i.index);
        expect(i.anchorTx).toBe(ev?.transactionHash);
      }
      expect(intervals.reduce((n, i) => n + i.ballotCount, 0)).toBe(60);
      // Each shard's windows are contiguous from seq 0.
      for (let shard = 0; shard < S; shard++) {
        let next = 0;
        for (const w of await listWindows(db.app, id, { shard })) {
          expect(w.firstSeq).toBe(next);
          expect(w.anchor).not.toBeNull();
          next += w.count;
        }
      }

      // Every receipt proves on chain, through its window and its interval.
      for (const r of receipts) {
        const proof = (await auditPathFor(db.app, id, r.seq, { shard: r.shard! }))!;
        const inInterval = (await intervalInclusionFor(db.app, proof.window))!;
        const w = proof.window;
        const proveOnChain = (ballotHash: string) =>
          chain.contract.verifyIntervalInclusion(
            key,
            inInterval.interval.index,
            inInterval.recordIndex,
            w.shard,
            w.index,
            w.firstSeq,
            w.count,
            '0x' + w.root,
            inInterval.auditPath.map((h) => '0x' + h),
            proof.leafIndex,
            '0x' + ballotHash,
            proof.auditPath.map((h) => '0x' + h),
          );
        expect(await proveOnChain(r.ballotHash), `shard ${r.shard} seq ${r.seq}`).toBe(true);
        // A wrong ballot hash does not prove.
        expect(await proveOnChain('ab'.repeat(32))).toBe(false);
      }

      // The close: the result over every shard, on chain.
      await worker.requests.requestClose(id);
      await waitFor('close', async () => (await electionRow(id)).close_tx, 60_000);
      const onChain = await chain.contract.getElection(key);
      const tally = await computeTally(db.app, id);
      expect(tally.totalBallots).toBe(60);
      expect(onChain.closed).toBe(true);
      expect(Number(onChain.totalBallots)).toBe(60);
      expect(onChain.resultHash).toBe('0x' + resultHash(tally));
    } finally {
      await worker?.stop();
      worker = null;
    }
  });

  it('spread over 2 clusters: each cluster seals its shards, one interval anchors both, the close sums both', async () => {
    const id = 'sharded-two-clusters';
    const S = 6;
    const other = await createTestDatabase();
    const clusters = new LedgerClusters(db.app, [other.app]);
    const pool = new VerifyPool({ threads: 1 });
    const ingestor = new Ingestor({ sql: db.app, clusters, ledgerKey, verifier: pool });
    const worker = await startAnchorWorker({
      databaseUrl: db.appUrl,
      shardDatabaseUrls: [other.appUrl],
      redisUrl: null,
      chainRpcUrl: chain.node.rpcUrl,
      chainPrivateKey: chain.anchorerKey,
      contractAddress: chain.address,
      reconcileIntervalMs: 500,
      log: () => {},
    });
    try {
      const vs = voters(40, `${id}-`);
      const m = testManifest(id, ledgerKey.publicKeyHex, { windowSeconds: 1, shards: S });
      await createElectionOnClusters(clusters, m, await validateRoll(vs.map((v) => v.credential)));
      await worker.requests.requestRegistration(id);
      await waitFor('registration', async () => (await electionRow(id)).registration_tx);
      const outcomes = await Promise.all(vs.map((v, i) => ingestor.submit(id, ballotFor(v, id, selectionsFor(i)))));
      expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
      const [onOther] = await other.app`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${id}`;
      expect(onOther!.n).toBeGreaterThan(0);
      expect(onOther!.n).toBeLessThan(40);

      // Every window of both clusters anchored, through intervals whose records name shards of both.
      await waitFor(
        'both clusters anchored',
        async () => {
          const heads = await shardHeadsOnClusters(clusters, id);
          if (heads.reduce((n, h) => n + h.sealedThrough, 0) !== 40) return false;
          for (const sql of clusters.all) {
            const [w] =
              await sql`SELECT count(*)::int AS n FROM windows WHERE election_id = ${id} AND anchor_tx IS NULL`;
            if (w!.n !== 0) return false;
          }
          return true;
        },
        60_000,
      );
      const intervals = await intervalsFrom(db.app, id);
      expect(intervals.reduce((n, i) => n + i.ballotCount, 0)).toBe(40);
      const recordShards = new Set<number>();
      for (const i of intervals)
        for (const r of await intervalRecords(db.app, id, i.index)) recordShards.add(r.shard % 2);
      expect([...recordShards].sort()).toEqual([0, 1]);
      expect(Number(await chain.contract.intervalCount(electionKey(id)))).toBe(intervals.length);

      await worker.requests.requestClose(id);
      await waitFor('close', async () => (await electionRow(id)).close_tx, 60_000);
      const onChain = await chain.contract.getElection(electionKey(id));
      expect(Number(onChain.totalBallots)).toBe(40);
    } finally {
      await worker.stop();
      await pool.close();
      await other.drop();
    }
  });
});
