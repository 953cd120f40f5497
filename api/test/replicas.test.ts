// Two API processes (the real server.ts) on one database: concurrent ingest into one election stays
// gap-free with one row per ballot, retries and duplicates crossing processes get the original receipt,
// and a SIGTERM drains in-flight submissions (every acknowledged ballot is in the ledger).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { ballotFor, selectionsFor, shuffled, testManifest, voters, type Voter } from '../../test/support/fixtures.js';
import { verifyReceipt, type Submission } from '../../ledger/src/protocol/protocol.js';
import { ADMIN_TOKEN, request, testLedgerKey, type HttpResult } from './helper.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

let db: TestDatabase;
let a: ServerProcess;
let b: ServerProcess;
const E = 'replicas';
const ledgerPub = Buffer.from(testLedgerKey.publicKeyHex, 'hex');

beforeAll(async () => {
  db = await createTestDatabase();
  const env = {
    DATABASE_URL: db.appUrl,
    TALLYPROOF_DATA_DIR: db.dataDir,
    LEDGER_KEY_SEED: testLedgerKey.seed.toString('hex'),
    ADMIN_TOKEN,
    VERIFY_THREADS: '1',
    DATABASE_POOL_SIZE: '4',
  };
  [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

/** Run `tasks` with at most `n` at once. */
async function pool<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

describe('two API processes, one election', () => {
  it('ingest concurrently into one election with gap-free seq; cross-process retries and duplicates answer the original receipt', async () => {
    const N = 600;
    const vs = voters(N, `${E}-`);
    const created = await request(a.url, 'POST', '/api/v1/elections', {
      admin: true,
      json: { manifest: testManifest(E, testLedgerKey.publicKeyHex), roll: vs.map((v) => v.credential) },
    });
    expect(created.status).toBe(201);
    const subs = vs.map((v, i) => ballotFor(v, E, selectionsFor(i)));
    type Job = { voter: number; sub: Submission; to: string; kind: 'own' | 'retry' | 'other' };
    const jobs: Job[] = subs.map((sub, i) => ({ voter: i, sub, to: i % 2 ? a.url : b.url, kind: 'own' }));
    // 20% more: byte-identical retries and other ballots of the same voters, sent to the other process
    for (let i = 0; i < N / 5; i++) {
      const v = (i * 7) % N;
      jobs.push({ voter: v, sub: subs[v]!, to: v % 2 ? b.url : a.url, kind: 'retry' });
      if (i % 2)
        jobs.push({
          voter: v,
          sub: ballotFor(vs[v]!, E, selectionsFor(v + 1)),
          to: v % 2 ? b.url : a.url,
          kind: 'other',
        });
    }
    // A 503 means nothing was stored and the client may retry (docs/protocol.md): a real client does, and
    // on a machine whose cores are busy a pool may wait longer than its connect timeout now and then.
    const unavailable: string[] = [];
    const submit = async (to: string, sub: Submission): Promise<HttpResult> => {
      for (let attempt = 1; ; attempt++) {
        const res = await request(to, 'POST', `/api/v1/elections/${E}/ballots`, { json: sub });
        if (res.status !== 503 || attempt === 10) return res;
        unavailable.push(res.text);
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      }
    };
    const results = await pool(
      48,
      shuffled(jobs, 13).map((j) => async () => ({ ...j, res: await submit(j.to, j.sub) })),
    );
    // Retried or not, a 503 is only ever the outage answer, never a refusal or an internal error.
    for (const text of unavailable) expect(JSON.parse(text).error.code).toBe('unavailable');
    expect(
      results.filter((r) => ![200, 201, 409].includes(r.res.status)).map((r) => r.res.text),
      `server logs:\n${a.output().slice(-3000)}\n${b.output().slice(-3000)}`,
    ).toEqual([]);
    const receiptOf = new Map<number, any>();
    for (const r of results) {
      expect(verifyReceipt(ledgerPub, r.res.body.receipt)).toBe(true);
      const prev = receiptOf.get(r.voter);
      if (prev) expect(r.res.body.receipt).toEqual(prev);
      else receiptOf.set(r.voter, r.res.body.receipt);
    }
    expect(results.filter((r) => r.res.status === 201)).toHaveLength(N);
    const rows = await db.admin`SELECT seq FROM ballots WHERE election_id = ${E} ORDER BY seq`;
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: N }, (_, i) => i));
    const seqs = [...receiptOf.values()].map((r) => r.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i));
    // both processes served ballots
    const byProcess = new Set(results.filter((r) => r.res.status === 201).map((r) => r.to));
    expect(byProcess.size).toBe(2);
    // the results of either process agree
    const [ra, rb] = await Promise.all([
      request(a.url, 'GET', `/api/v1/elections/${E}/results`),
      request(b.url, 'GET', `/api/v1/elections/${E}/results`),
    ]);
    expect(ra.body).toEqual(rb.body);
    expect(ra.body.totalBallots).toBe(N);
  });

  it('SIGTERM drains in-flight submissions: every acknowledged ballot is stored, the rest succeed on the other process', async () => {
    const id = `${E}-drain`;
    const vs: Voter[] = voters(300, `${id}-`);
    expect(
      (
        await request(a.url, 'POST', '/api/v1/elections', {
          admin: true,
          json: { manifest: testManifest(id, testLedgerKey.publicKeyHex), roll: vs.map((v) => v.credential) },
        })
      ).status,
    ).toBe(201);
    const subs = vs.map((v) => ballotFor(v, id));
    const acknowledged = new Set<string>();
    const failed: Submission[] = [];
    let stopping: Promise<number | null> | null = null;
    await pool(
      32,
      subs.map((sub, i) => async () => {
        if (i === 60) stopping = b.stop('SIGTERM');
        let r: HttpResult;
        try {
          r = await request(b.url, 'POST', `/api/v1/elections/${id}/ballots`, { json: sub });
        } catch {
          failed.push(sub); // connection refused or closed: not acknowledged
          return;
        }
        if (r.status === 201 || r.status === 200) acknowledged.add(r.body.receipt.ballotHash);
        else {
          expect(r.status).toBe(503); // shutting down: retry elsewhere
          expect(r.headers.get('retry-after')).toBeTruthy();
          failed.push(sub);
        }
      }),
    );
    expect(await stopping).toBe(0);
    expect(acknowledged.size).toBeGreaterThan(0);
    const stored = new Set(
      (await db.admin`SELECT encode(ballot_hash, 'hex') AS h FROM ballots WHERE election_id = ${id}`).map(
        (r) => r.h as string,
      ),
    );
    for (const h of acknowledged) expect(stored.has(h), `acknowledged ${h} is stored`).toBe(true);
    // the client retries everything unacknowledged on the other process
    const retried = await pool(
      16,
      failed.map((sub) => () => request(a.url, 'POST', `/api/v1/elections/${id}/ballots`, { json: sub })),
    );
    expect(retried.every((r) => r.status === 201 || r.status === 200)).toBe(true);
    const rows = await db.admin`SELECT seq FROM ballots WHERE election_id = ${id} ORDER BY seq`;
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});
