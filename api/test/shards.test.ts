// A sharded election over HTTP (docs/protocol.md section 13): receipts naming the shard, proof bundles with
// the window's shard and its interval, windows per shard, the intervals, the ledger export of every shard,
// results over every shard; and an election of one shard keeping its version 1 bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, type Voter } from '../../test/support/fixtures.js';
import { verifyInclusion } from '../../ledger/src/protocol/merkle.js';
import { shardOf, shardWindowRecordBytes } from '../../ledger/src/protocol/shards.js';
import { verifyReceipt } from '../../ledger/src/protocol/receipt.js';
import { formInterval, recordIntervalAnchor, sealWindow } from '../../ledger/src/index.js';
import { build, type TestApi } from './helper.js';

let api: TestApi;
let vs: Voter[];
const E = 'sharded-api';
const S = 4;
const receipts: any[] = [];

beforeAll(async () => {
  api = await build();
  ({ voters: vs } = await api.election(E, 24, { shards: S }));
  for (let i = 0; i < 24; i++) {
    const r = await api.request('POST', `/api/v1/elections/${E}/ballots`, {
      json: ballotFor(vs[i]!, E, selectionsFor(i)),
    });
    expect(r.status).toBe(201);
    receipts.push(r.body.receipt);
  }
});

afterAll(async () => {
  await api?.close();
});

describe('a sharded election over HTTP', () => {
  it('the election view carries the manifest with its shards', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}`);
    expect(r.status).toBe(200);
    expect(r.body.manifest.shards).toBe(S);
  });

  it('receipts name the shard the credential falls in, and are signed over it', () => {
    const perShard = new Map<number, number[]>();
    receipts.forEach((rc, i) => {
      // Key order is not signed (JCS is): compare the keys as a set.
      expect(Object.keys(rc).sort()).toEqual(
        ['version', 'electionId', 'shard', 'seq', 'ballotHash', 'receivedAt', 'signature'].sort(),
      );
      expect(rc.shard).toBe(shardOf(vs[i]!.credential, S));
      expect(verifyReceipt(Buffer.from(api.ledgerKey.publicKeyHex, 'hex'), rc)).toBe(true);
      // The signature covers the shard: the same receipt claiming another shard does not verify.
      expect(verifyReceipt(Buffer.from(api.ledgerKey.publicKeyHex, 'hex'), { ...rc, shard: (rc.shard + 1) % S })).toBe(
        false,
      );
      perShard.set(rc.shard, [...(perShard.get(rc.shard) ?? []), rc.seq]);
    });
    for (const seqs of perShard.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('proof bundles: pending, then the shard window and its path, then the interval and its path', async () => {
    const rc = receipts[0];
    let r = await api.request('GET', `/api/v1/receipts/${rc.ballotHash}`);
    expect(r.body).toEqual({ receipt: rc, status: 'pending' });

    for (let shard = 0; shard < S; shard++) await sealWindow(api.db.app, E, { shard });
    r = await api.request('GET', `/api/v1/receipts/${rc.ballotHash}`);
    expect(r.body.status).toBe('sealed');
    expect(Object.keys(r.body)).toEqual(['receipt', 'status', 'window', 'inclusion']);
    expect(r.body.window.shard).toBe(rc.shard);
    const w = r.body.window;
    expect(
      verifyInclusion(
        Buffer.from(rc.ballotHash, 'hex'),
        r.body.inclusion.leafIndex,
        w.count,
        r.body.inclusion.auditPath.map((h: string) => Buffer.from(h, 'hex')),
        Buffer.from(w.root, 'hex'),
      ),
    ).toBe(true);

    const interval = (await formInterval(api.db.app, E))!;
    await recordIntervalAnchor(api.db.app, E, interval.index, { txHash: '0x' + 'cd'.repeat(32), blockNumber: 9 });
    for (const receipt of receipts) {
      const b = (await api.request('GET', `/api/v1/receipts/${receipt.ballotHash}`)).body;
      expect(b.status).toBe('anchored');
      expect(Object.keys(b)).toEqual(['receipt', 'status', 'window', 'inclusion', 'interval', 'anchor']);
      expect(b.anchor.txHash).toBe('0x' + 'cd'.repeat(32));
      const record = shardWindowRecordBytes({
        shard: b.window.shard,
        windowIndex: b.window.index,
        firstSeq: b.window.firstSeq,
        count: b.window.count,
        root: b.window.root,
      });
      expect(b.interval.root).toBe(interval.root);
      expect(
        verifyInclusion(
          record,
          b.interval.recordIndex,
          b.interval.windowCount,
          b.interval.auditPath.map((h: string) => Buffer.from(h, 'hex')),
          Buffer.from(b.interval.root, 'hex'),
        ),
      ).toBe(true);
    }
  });

  it('windows per shard, the intervals with their records, and the export of every shard', async () => {
    let total = 0;
    for (let shard = 0; shard < S; shard++) {
      const r = await api.request('GET', `/api/v1/elections/${E}/windows?shard=${shard}`);
      expect(r.status).toBe(200);
      for (const w of r.body.windows) {
        expect(w.shard).toBe(shard);
        total += w.count;
      }
    }
    expect(total).toBe(24);
    expect((await api.request('GET', `/api/v1/elections/${E}/windows?shard=${S}`)).status).toBe(400);

    const iv = await api.request('GET', `/api/v1/elections/${E}/intervals`);
    expect(iv.status).toBe(200);
    expect(iv.body.intervals).toHaveLength(1);
    expect(iv.body.intervals[0].ballotCount).toBe(24);
    expect(iv.body.intervals[0].windows.map((x: any) => x.shard)).toEqual(
      [...iv.body.intervals[0].windows.map((x: any) => x.shard)].sort((a: number, b: number) => a - b),
    );

    const ex = await api.request('GET', `/api/v1/elections/${E}/ledger`);
    expect(ex.status).toBe(200);
    const lines = ex.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(24);
    expect(Object.keys(lines[0])).toEqual(['shard', 'seq', 'ballotHash', 'ballot', 'signature', 'receivedAt']);
    const ends = ex.headers.get('x-ledger-end-seqs')!.split(',').map(Number);
    expect(ends).toHaveLength(S);
    for (let shard = 0; shard < S; shard++) {
      const mine = lines.filter((l) => l.shard === shard).map((l) => l.seq);
      expect(mine).toEqual(mine.map((_: number, i: number) => i));
      expect(ends[shard]).toBe(mine.length - 1);
    }
    const one = await api.request('GET', `/api/v1/elections/${E}/ledger?shard=1&from=1`);
    const oneLines =
      one.text.trim() === ''
        ? []
        : one.text
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l));
    expect(oneLines.every((l: any) => l.shard === 1 && l.seq >= 1)).toBe(true);
    expect((await api.request('GET', `/api/v1/elections/${E}/ledger?from=3`)).status).toBe(400);
  });

  it('results count every shard', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}/results`);
    expect(r.status).toBe(200);
    expect(r.body.totalBallots).toBe(24);
    expect(r.body.asOfSeq).toBe(23);
    const oui = receipts.filter((_, i) => selectionsFor(i).q1!.includes('oui')).length;
    expect(r.body.tally.q1.oui).toBe(oui);
  });

  it('an election of one shard: no shard anywhere, as before', async () => {
    const { voters: plain } = await api.election('unsharded-api', 2);
    const r = await api.request('POST', '/api/v1/elections/unsharded-api/ballots', {
      json: ballotFor(plain[0]!, 'unsharded-api'),
    });
    expect(Object.keys(r.body.receipt)).toEqual([
      'version',
      'electionId',
      'seq',
      'ballotHash',
      'receivedAt',
      'signature',
    ]);
    const v = await api.request('GET', '/api/v1/elections/unsharded-api');
    expect('shards' in v.body.manifest).toBe(false);
    const ex = await api.request('GET', '/api/v1/elections/unsharded-api/ledger');
    expect(Object.keys(JSON.parse(ex.text.trim()))[0]).toBe('seq');
  });
});
