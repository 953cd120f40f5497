// The whole stack with a 16-shard election spread over 2 clusters: API and anchor worker on both, anvil,
// ballots over HTTP, every shard window anchored through intervals, then `tallyproof-verify audit` (the
// independent implementation) passes against the API and the chain; a ballot changed on the second
// cluster is found, the finding naming its shard and seq.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { ballotFor, selectionsFor, testManifest, voters } from '../../test/support/fixtures.js';
import { request } from './helper.js';
import { auditElection } from './helpers/verifier.js';

const E = 'sharded-stack';
const S = 16;
let stack: Stack;
let other: TestDatabase;
const audit = () => auditElection(stack, E);

async function until<T>(what: string, probe: () => Promise<T | null | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  other = await createTestDatabase();
  stack = await startStack({ shardDatabases: [other] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await other?.drop();
});

describe('a 16-shard election on 2 clusters, on the whole stack', () => {
  it('is anchored by intervals, audits clean, and a ballot changed on cluster 1 is named by shard and seq', async () => {
    const vs = voters(60, `${E}-`);
    const manifest = testManifest(E, stack.ledgerKey.publicKeyHex, { windowSeconds: 1, shards: S });
    const admin = { authorization: `Bearer ${stack.adminToken}` };
    const created = await request(stack.apiUrl, 'POST', '/api/v1/elections', {
      headers: admin,
      json: { manifest, roll: vs.map((v) => v.credential) },
    });
    expect(created.status).toBe(201);
    const sent = await Promise.all(
      vs.map((v, i) =>
        request(stack.apiUrl, 'POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(v, E, selectionsFor(i)) }),
      ),
    );
    expect(sent.every((r) => r.status === 201)).toBe(true);

    // Every ballot anchored: each receipt's bundle says so (read on whichever cluster holds its shard).
    for (const r of sent) {
      await until(`anchor of shard ${r.body.receipt.shard} seq ${r.body.receipt.seq}`, async () => {
        const b = await request(stack.apiUrl, 'GET', `/api/v1/receipts/${r.body.receipt.ballotHash}`);
        return b.body.status === 'anchored' && b.body.interval !== undefined;
      });
    }

    const clean = await audit();
    expect(clean.code, clean.out.slice(-3000)).toBe(0);
    expect(clean.report.findings).toEqual([]);

    // Change one ballot's stored bytes on cluster 1 (the test plays an operator going around the triggers).
    const [row] =
      await other.admin`SELECT shard, seq, ballot FROM ballots WHERE election_id = ${E} ORDER BY shard, seq LIMIT 1`;
    const shard = Number(row!.shard);
    const seq = Number(row!.seq);
    expect(shard % 2).toBe(1);
    const original = row!.ballot as string;
    const changed = original.includes('"oui"')
      ? original.replace('"oui"', '"non"')
      : original.replace('"non"', '"oui"');
    expect(changed).not.toBe(original);
    await other.admin.begin(async (tx) => {
      await tx`ALTER TABLE ballots DISABLE TRIGGER ballots_no_update`;
      await tx`UPDATE ballots SET ballot = ${changed} WHERE election_id = ${E} AND shard = ${shard} AND seq = ${seq}`;
      await tx`ALTER TABLE ballots ENABLE TRIGGER ballots_no_update`;
    });
    const tampered = await audit();
    expect(tampered.code).toBe(1);
    const named = tampered.report.findings.filter((f: any) => f.shard === shard && f.seq === seq);
    expect(named.length, JSON.stringify(tampered.report.findings).slice(0, 2000)).toBeGreaterThan(0);
  }, 240_000);
});
