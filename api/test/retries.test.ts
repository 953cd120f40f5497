// A client posting 10,000 ballots with lost responses: some requests are sent again after their success,
// some twice at once. The ledger must end with exactly one row per ballot, gap-free seqs, and every
// answer carrying the same valid receipt for the same ballot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { selectionsFor, testManifest } from '../../test/support/fixtures.js';
import {
  ballotHash,
  ballotMessage,
  verifyReceipt,
  type Ballot,
  type Submission,
} from '../../ledger/src/protocol/protocol.js';
import { build, type TestApi } from './helper.js';

const N = 10_000;
const E = 'retries';
let api: TestApi;
let subs: Submission[];

beforeAll(async () => {
  api = await build({ verifyThreads: 2 });
  // Fresh key pairs (generateKeyPairSync is ~5x faster here than importing 10,000 seeds as PKCS#8). The
  // public key comes DER-encoded from the generation itself: exporting a just-generated KeyObject as JWK
  // can deadlock Node 20 (a GC inside the export destroys the generation job, which takes the key's lock).
  subs = Array.from({ length: N }, (_, i) => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'der' },
    });
    const credential = (publicKey as unknown as Buffer).subarray(12).toString('hex');
    const ballot: Ballot = { version: 1, electionId: E, credential, selections: selectionsFor(i) };
    return { ballot, signature: sign(null, ballotMessage(ballot), privateKey).toString('hex') };
  });
  const r = await api.request('POST', '/api/v1/elections', {
    admin: true,
    json: { manifest: testManifest(E, api.ledgerKey.publicKeyHex), roll: subs.map((s) => s.ballot.credential) },
  });
  expect(r.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('10,000 ballots with lost responses', () => {
  it('ends with exactly one row per ballot and every receipt valid', async () => {
    const ledgerPub = Buffer.from(api.ledgerKey.publicKeyHex, 'hex');
    const post = (sub: Submission) =>
      fetch(`${api.url}/api/v1/elections/${E}/ballots`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sub),
      }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { receipt: { ballotHash: string; seq: number } },
      }));
    const answers: { i: number; status: number; receipt: any }[] = [];
    let resent = 0;
    let concurrent = 0;
    let next = 0;
    // 64 clients; each ballot: 70% sent once, 15% sent again after its success (the response was
    // "lost"), 15% sent twice at the same time (a retry racing the original).
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < N) {
          const i = next++;
          const roll = Math.random();
          if (roll < 0.15) {
            concurrent++;
            const both = await Promise.all([post(subs[i]!), post(subs[i]!)]);
            for (const a of both) answers.push({ i, status: a.status, receipt: a.body.receipt });
          } else {
            const a = await post(subs[i]!);
            answers.push({ i, status: a.status, receipt: a.body.receipt });
            if (roll < 0.3) {
              resent++;
              const b = await post(subs[i]!);
              answers.push({ i, status: b.status, receipt: b.body.receipt });
            }
          }
        }
      }),
    );
    expect(resent).toBeGreaterThan(1000);
    expect(concurrent).toBeGreaterThan(1000);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 201)).toEqual([]);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(N);
    const byBallot = new Map<number, any>();
    for (const a of answers) {
      const first = byBallot.get(a.i);
      if (first) expect(a.receipt).toEqual(first);
      else {
        expect(a.receipt.ballotHash).toBe(ballotHash(subs[a.i]!).toString('hex'));
        expect(verifyReceipt(ledgerPub, a.receipt)).toBe(true);
        byBallot.set(a.i, a.receipt);
      }
    }
    expect(byBallot.size).toBe(N);
    const [{ rows, seqs, hashes, maxSeq }] = (await api.db.admin`
      SELECT count(*)::int AS rows, count(DISTINCT seq)::int AS seqs, count(DISTINCT ballot_hash)::int AS hashes, max(seq)::int AS "maxSeq"
      FROM ballots WHERE election_id = ${E}`) as unknown as [
      { rows: number; seqs: number; hashes: number; maxSeq: number },
    ];
    expect({ rows, seqs, hashes, maxSeq }).toEqual({ rows: N, seqs: N, hashes: N, maxSeq: N - 1 });
    const [{ n }] = (await api.db
      .admin`SELECT next_seq AS n FROM election_heads WHERE election_id = ${E}`) as unknown as [{ n: string }];
    expect(Number(n)).toBe(N);
    // and the export streams all of it back
    const lines = (await (await fetch(`${api.url}/api/v1/elections/${E}/ledger`)).text()).trimEnd().split('\n');
    expect(lines).toHaveLength(N);
    expect(JSON.parse(lines[N - 1]!).seq).toBe(N - 1);
  }, 120_000);
});
