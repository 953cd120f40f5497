// A ledger spread over two clusters (src/db/clusters.ts, src/clusters.ts): placement, the roll copied at
// finalize, per-shard heads read where each shard is, and the reconcile view that sees a shard's waiting
// ballots on whichever cluster holds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { ballotFor, selectionsFor, testManifest, voters } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { shardOf } from '../src/protocol/shards.js';
import { VerifyPool } from '../src/verify-pool.js';
import {
  Ingestor,
  LedgerClusters,
  appendRollChunks,
  createElectionOnClusters,
  electionsToReconcile,
  electionsToReconcileOnClusters,
  finalizeRollOnClusters,
  inlineCredentialChecker,
  shardHeadsOnClusters,
  validateRoll,
} from '../src/index.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 23));
let home: TestDatabase;
let other: TestDatabase;
let clusters: LedgerClusters;
let pool: VerifyPool;
let ingestor: Ingestor;

beforeAll(async () => {
  [home, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  clusters = new LedgerClusters(home.app, [other.app]);
  pool = new VerifyPool({ threads: 1 });
  ingestor = new Ingestor({ sql: home.app, clusters, ledgerKey, verifier: pool });
});

afterAll(async () => {
  await pool?.close();
  await home?.drop();
  await other?.drop();
});

describe('a ledger on two clusters', () => {
  it('places shard s on cluster s mod K; one shard stays home', () => {
    expect([0, 1, 2, 3].map((s) => clusters.clusterOf(s, 4))).toEqual([0, 1, 0, 1]);
    expect(clusters.clusterOf(0, 1)).toBe(0);
    expect(clusters.clustersOf(1)).toEqual([home.app]);
    expect(clusters.clustersOf(8)).toEqual([home.app, other.app]);
  });

  it('copies a roll uploaded in parts to the other cluster at finalize, with the same root', async () => {
    const id = 'parts-on-two';
    const vs = voters(30, `${id}-`);
    const keys = await validateRoll(vs.map((v) => v.credential));
    const m = testManifest(id, ledgerKey.publicKeyHex, { shards: 4 });
    await createElectionOnClusters(clusters, m, keys.slice(0, 10), { pending: true });
    async function* rest() {
      yield { keys: keys.slice(10), firstLine: 11 };
    }
    await appendRollChunks(home.app, id, rest(), inlineCredentialChecker);
    const root = await finalizeRollOnClusters(clusters, id);
    const [copy] =
      await other.admin`SELECT encode(roll_root, 'hex') AS r, roll_size FROM elections WHERE election_id = ${id}`;
    expect(copy!.r).toBe(root.rollRoot);
    expect(Number(copy!.roll_size)).toBe(30);
    // Finalizing again changes nothing.
    expect(await finalizeRollOnClusters(clusters, id)).toEqual(root);
  });

  it('commits each ballot on its shard cluster; heads and the reconcile view follow each shard where it is', async () => {
    const id = 'reconcile-two';
    const vs = voters(40, `${id}-`);
    const m = testManifest(id, ledgerKey.publicKeyHex, { shards: 4, windowSeconds: 1 });
    await createElectionOnClusters(clusters, m, await validateRoll(vs.map((v) => v.credential)));
    // Only credentials of shards on cluster 1: the home holds no ballot of this election.
    const away = vs.filter((v) => shardOf(v.credential, 4) % 2 === 1);
    expect(away.length).toBeGreaterThan(0);
    const outcomes = await Promise.all(away.map((v, i) => ingestor.submit(id, ballotFor(v, id, selectionsFor(i)))));
    expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
    const [onHome] = await home.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${id}`;
    const [onOther] = await other.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${id}`;
    expect([onHome!.n, onOther!.n]).toEqual([0, away.length]);
    const heads = await shardHeadsOnClusters(clusters, id);
    expect(heads.reduce((n, h) => n + h.nextSeq, 0)).toBe(away.length);

    // Unsealed for more than two windows: overdue, seen through the other cluster (the home's own
    // heads never moved). Waits on the condition, not on a clock.
    const deadline = Date.now() + 30_000;
    let row: Awaited<ReturnType<typeof electionsToReconcileOnClusters>>[number] | undefined;
    for (;;) {
      row = (await electionsToReconcileOnClusters(clusters)).find((r) => r.electionId === id);
      if (row?.overdue || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(row?.overdue).toBe(true);
    expect((await electionsToReconcile(home.app)).find((r) => r.electionId === id)?.overdue).toBe(false);
  });
});
