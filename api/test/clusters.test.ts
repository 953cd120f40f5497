// A 16-shard election spread over 2 clusters (ledger/src/db/clusters.ts: shard s on cluster s mod 2), two
// API replicas in front: each shard gap-free on its own cluster, one ballot per credential under concurrent
// duplicates sent to different replicas, the results and the close summing both clusters; then a cluster
// down: its shards answer 503 with Retry-After, the others 201, and nothing is lost once it is back.
// (Two databases of the test server stand for the two clusters; "down" is the database refusing connections.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { createTestDatabase, serverUrl, type TestDatabase } from '../../test/support/db.js';
import { ballotFor, selectionsFor, type Voter } from '../../test/support/fixtures.js';
import { shardOf } from '../../ledger/src/protocol/shards.js';
import { verifyReceipt } from '../../ledger/src/protocol/receipt.js';
import { build, type TestApi } from './helper.js';

const E = 'two-clusters';
const S = 16;
let home: TestDatabase;
let other: TestDatabase;
let replicaA: TestApi;
let replicaB: TestApi;
let vs: Voter[];

beforeAll(async () => {
  [home, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  replicaA = await build({ db: home, shardDatabases: [other.app] });
  replicaB = await build({ db: home, shardDatabases: [other.app] });
  ({ voters: vs } = await replicaA.election(E, 120, { shards: S }));
});

afterAll(async () => {
  await replicaA?.close();
  await replicaB?.close();
  await home?.drop();
  await other?.drop();
});

const post = (api: TestApi, v: Voter, i: number) =>
  api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(v, E, selectionsFor(i)) });

describe('a 16-shard election on 2 clusters, 2 API replicas', () => {
  it('routes each ballot to its shard on its cluster, gap-free, one per credential across replicas', async () => {
    // Every voter through replica A, and at the same time 40 of them with another ballot through replica B.
    const firsts = vs.slice(0, 100).map((v, i) => post(replicaA, v, i));
    const dups = vs.slice(0, 40).map((v, i) => post(replicaB, v, i + 1));
    const results = await Promise.all([...firsts, ...dups]);
    const accepted = results.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(100);
    expect(results.filter((r) => r.status === 409)).toHaveLength(40);
    const key = Buffer.from(replicaA.ledgerKey.publicKeyHex, 'hex');
    for (const r of accepted) expect(verifyReceipt(key, r.body.receipt)).toBe(true);

    // Each shard's ballots are on cluster shard mod 2, and nowhere else, seq 0..n-1.
    for (const [db, cluster] of [
      [home, 0],
      [other, 1],
    ] as const) {
      const rows = await db.admin`SELECT shard, seq, encode(credential, 'hex') AS c FROM ballots
                                  WHERE election_id = ${E} ORDER BY shard, seq`;
      const byShard = new Map<number, number[]>();
      for (const r of rows) {
        expect(Number(r.shard) % 2).toBe(cluster);
        expect(shardOf(r.c as string, S)).toBe(Number(r.shard));
        byShard.set(Number(r.shard), [...(byShard.get(Number(r.shard)) ?? []), Number(r.seq)]);
      }
      for (const seqs of byShard.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
      expect(rows.length).toBeGreaterThan(20);
    }
    const [a] = await home.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${E}`;
    const [b] = await other.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${E}`;
    expect(a!.n + b!.n).toBe(100);

    // Proof bundles and the export read each shard where it is.
    const receipt = accepted.find((r) => r.body.receipt.shard % 2 === 1)!.body.receipt;
    const bundle = await replicaB.request('GET', `/api/v1/receipts/${receipt.ballotHash}`);
    expect(bundle.status).toBe(200);
    expect(bundle.body.receipt).toEqual(receipt);
    const ex = await replicaB.request('GET', `/api/v1/elections/${E}/ledger`);
    expect(ex.text.trim().split('\n')).toHaveLength(100);
    const results2 = await replicaA.request('GET', `/api/v1/elections/${E}/results`);
    expect(results2.body.totalBallots).toBe(100);
  });

  it('a cluster down: its shards answer 503 with Retry-After, the others 201; nothing lost once it is back', async () => {
    const rest = vs.slice(100);
    const onOther = rest.filter((v) => shardOf(v.credential, S) % 2 === 1);
    const onHome = rest.filter((v) => shardOf(v.credential, S) % 2 === 0);
    expect(onOther.length).toBeGreaterThan(0);
    expect(onHome.length).toBeGreaterThan(0);

    const root = postgres(serverUrl(), { max: 1, onnotice: () => {} });
    const name = new URL(other.url).pathname.slice(1);
    try {
      await root.unsafe(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
      await root`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name}`;

      const down = await Promise.all(onOther.map((v, i) => post(replicaA, v, 100 + i)));
      for (const r of down) {
        expect(r.status).toBe(503);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      const up = await Promise.all(onHome.map((v, i) => post(replicaB, v, 200 + i)));
      for (const r of up) expect(r.status).toBe(201);
    } finally {
      await root.unsafe(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
      await root.end({ timeout: 5 });
    }

    // Back: the refused ballots are sent again and accepted; every acknowledged ballot is there.
    const again = await Promise.all(onOther.map((v, i) => post(replicaA, v, 100 + i)));
    for (const r of again) expect(r.status).toBe(201);
    const [a] = await home.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${E}`;
    const [b] = await other.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${E}`;
    expect(a!.n + b!.n).toBe(120);

    // The close counts both clusters.
    const closed = await replicaA.request('POST', `/api/v1/elections/${E}/close`, { admin: true });
    expect(closed.status).toBe(202);
    expect(closed.body.totalBallots).toBe(120);
    const heads = await other.admin`SELECT bool_and(closed) AS closed FROM election_heads WHERE election_id = ${E}`;
    expect(heads[0]!.closed).toBe(true);
  });
});
