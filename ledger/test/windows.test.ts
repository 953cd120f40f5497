import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';

import { merkleRoot, verifyInclusion } from '../src/protocol/merkle.js';
import { referenceLeafHash, referencePath } from './helpers/rfc6962.js';
import {
  auditPathFor,
  listWindows,
  sealWindow,
  receiptWithLeafTile,
  SharedTileCache,
  inclusionProofFromTiles,
  readWindowTiles,
  storeMissingWindowTiles,
  windowInclusionPath,
  tileReadsFor,
  TileBuilder,
  windowForSeq,
  type SealedWindow,
} from '../src/index.js';
import { useTestLedger } from './helpers/test-ledger.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 7));

const ledger = useTestLedger(ledgerKey);

async function ballotHashes(id: string): Promise<Buffer[]> {
  const rows = await ledger.db.admin`SELECT ballot_hash FROM ballots WHERE election_id = ${id} ORDER BY seq`;
  return rows.map((r) => r.ballot_hash as Buffer);
}

/** Windows cover 0..n-1 exactly once, in order, each with the root of its ballots. */
function expectContiguous(windows: SealedWindow[], leaves: Buffer[]) {
  let next = 0;
  windows.forEach((w, i) => {
    expect(w.index).toBe(i);
    expect(w.firstSeq).toBe(next);
    expect(w.count).toBeGreaterThan(0);
    expect(w.root).toBe(merkleRoot(leaves.slice(w.firstSeq, w.firstSeq + w.count)).toString('hex'));
    next += w.count;
  });
  expect(next).toBe(leaves.length);
}

/** Insert n ballots straight into the ledger (made-up hashes and credentials: the schema checks neither signatures nor the roll). */
async function bulkBallots(id: string, n: number) {
  const [{ next }] = await ledger.db.admin`SELECT next_seq AS next FROM election_heads WHERE election_id = ${id}`;
  await ledger.db.admin`
    INSERT INTO ballots (election_id, seq, ballot_hash, credential, ballot, signature, received_at)
    SELECT ${id}, ${Number(next)} + i, sha256(convert_to(${id} || ':hash:' || i, 'UTF8')), sha256(convert_to(${id} || ':cred:' || i, 'UTF8')),
           '{}', decode(repeat('00', 64), 'hex'), now()
    FROM generate_series(0, ${n - 1}::int) AS i`;
  await ledger.db.admin`UPDATE election_heads SET next_seq = next_seq + ${n} WHERE election_id = ${id}`;
}

describe('sealWindow', () => {
  it('seals what was committed since the last window, and nothing when nothing is new', async () => {
    const vs = await ledger.newElection('seal', 12);
    expect(await sealWindow(ledger.db.app, 'seal')).toBeNull();
    await ledger.castAll('seal', vs.slice(0, 5));
    const w0 = await sealWindow(ledger.db.app, 'seal');
    expect(w0).toMatchObject({ electionId: 'seal', index: 0, firstSeq: 0, count: 5, anchor: null });
    expect(await sealWindow(ledger.db.app, 'seal')).toBeNull();
    await ledger.castAll('seal', vs.slice(5, 6));
    expect(await sealWindow(ledger.db.app, 'seal')).toMatchObject({ index: 1, firstSeq: 5, count: 1 });
    await ledger.castAll('seal', vs.slice(6));
    expect(await sealWindow(ledger.db.app, 'seal')).toMatchObject({ index: 2, firstSeq: 6, count: 6 });
    const windows = await listWindows(ledger.db.app, 'seal');
    expectContiguous(windows, await ballotHashes('seal'));
    const [head] = await ledger.db
      .admin`SELECT next_seq, sealed_through, next_window_index FROM election_heads WHERE election_id = 'seal'`;
    expect([Number(head!.next_seq), Number(head!.sealed_through), head!.next_window_index]).toEqual([12, 12, 3]);
    expect((await windowForSeq(ledger.db.app, 'seal', 5))?.index).toBe(1);
    expect((await windowForSeq(ledger.db.app, 'seal', 11))?.index).toBe(2);
    expect(await windowForSeq(ledger.db.app, 'seal', 12)).toBeNull();
    await expect(sealWindow(ledger.db.app, 'no-such-election')).rejects.toThrow(/no election no-such-election/);
  });

  it('a throw before COMMIT seals nothing', async () => {
    const vs = await ledger.newElection('rollback', 3);
    await ledger.castAll('rollback', vs);
    await expect(
      sealWindow(ledger.db.app, 'rollback', {
        beforeCommit: () => {
          throw new Error('injected');
        },
      }),
    ).rejects.toThrow('injected');
    expect(await listWindows(ledger.db.app, 'rollback')).toEqual([]);
    expect(await sealWindow(ledger.db.app, 'rollback')).toMatchObject({ index: 0, firstSeq: 0, count: 3 });
  });

  it('with ingest and two sealers running at once, no ballot is skipped or sealed twice', async () => {
    const n = 600;
    const vs = await ledger.newElection('race', n);
    let ingesting = true;
    const sealed: SealedWindow[] = [];
    const sealer = async () => {
      while (ingesting) {
        const w = await sealWindow(ledger.db.app, 'race');
        if (w) sealed.push(w);
        await new Promise((r) => setTimeout(r, Math.random() * 5));
      }
    };
    const sealers = [sealer(), sealer()];
    for (let i = 0; i < n; i += 40) await ledger.castAll('race', vs.slice(i, i + 40));
    ingesting = false;
    await Promise.all(sealers);
    const last = await sealWindow(ledger.db.app, 'race');
    if (last) sealed.push(last);
    expect(await sealWindow(ledger.db.app, 'race')).toBeNull();
    const windows = await listWindows(ledger.db.app, 'race');
    expect(windows.length).toBeGreaterThan(2);
    expect(sealed.map((w) => w.index).sort((a, b) => a - b)).toEqual(windows.map((w) => w.index));
    expectContiguous(windows, await ballotHashes('race'));
  });

  it('sealing a 100,000-ballot window does not stall ingest', async () => {
    const vs = await ledger.newElection('big', 400);
    await bulkBallots('big', 100_000);
    const commitTimes: number[] = [];
    let sealing = true;
    let nextVoter = 0;
    const ingest = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sealing && nextVoter < vs.length) {
          const i = nextVoter++;
          const o = await ledger.ingestor.submit('big', ballotFor(vs[i]!, 'big', selectionsFor(i)));
          expect(o.kind).toBe('accepted');
          commitTimes.push(performance.now());
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    const w = await sealWindow(ledger.db.app, 'big');
    const ended = performance.now();
    sealing = false;
    await ingest;
    // The window is the 100,000 ballots (plus those committed before the seal read the head); ballots
    // committed while it was hashing are left for the next window, and several commits happened meanwhile.
    expect(w!.firstSeq).toBe(0);
    expect(w!.count).toBeGreaterThanOrEqual(100_000);
    const during = commitTimes.filter((t) => t > started && t < ended).length;
    expect(during).toBeGreaterThan(0);
    const next = await sealWindow(ledger.db.app, 'big');
    expect(next!.firstSeq).toBe(w!.count);
    expectContiguous(await listWindows(ledger.db.app, 'big'), await ballotHashes('big'));
  });
});

describe('inclusion proofs', () => {
  it('auditPathFor gives an RFC 6962 path that verifies against the sealed root, for every ballot', async () => {
    const vs = await ledger.newElection('proofs', 1 + 2 + 3 + 7 + 16 + 33);
    let cast0 = 0;
    for (const size of [1, 2, 3, 7, 16, 33]) {
      await ledger.castAll('proofs', vs.slice(cast0, cast0 + size));
      cast0 += size;
      await sealWindow(ledger.db.app, 'proofs');
    }
    const leaves = await ballotHashes('proofs');
    for (let seq = 0; seq < leaves.length; seq++) {
      const counters = { tileReads: 0, hashes: 0 };
      const proof = (await auditPathFor(ledger.db.app, 'proofs', seq, { counters }))!;
      expect(counters.tileReads).toBe(tileReadsFor(proof.leafIndex, proof.window.count).length);
      const { window, leafIndex, auditPath } = proof;
      expect(leafIndex).toBe(seq - window.firstSeq);
      const windowLeaves = leaves.slice(window.firstSeq, window.firstSeq + window.count);
      expect(auditPath).toEqual(
        referencePath(leafIndex, windowLeaves.map(referenceLeafHash)).map((h) => h.toString('hex')),
      );
      expect(
        verifyInclusion(
          leaves[seq]!,
          leafIndex,
          window.count,
          auditPath.map((h) => Buffer.from(h, 'hex')),
          Buffer.from(window.root, 'hex'),
        ),
      ).toBe(true);
    }
    expect(await auditPathFor(ledger.db.app, 'proofs', leaves.length)).toBeNull();
  });

  it('stores the tiles of a window in the sealing transaction, byte for byte those of its tree', async () => {
    const vs = await ledger.newElection('tiles', 600);
    await ledger.castAll('tiles', vs);
    const w = (await sealWindow(ledger.db.app, 'tiles'))!;
    const builder = new TileBuilder();
    for (const leaf of await ballotHashes('tiles')) builder.pushLeaf(leaf);
    const expected = builder.finish();
    expect(expected.root.toString('hex')).toBe(w.root);
    const rows = await ledger.db.admin`
      SELECT level, tile_index, width, data FROM window_tiles WHERE election_id = 'tiles' ORDER BY level, tile_index`;
    expect(rows.map((r) => [r.level, Number(r.tile_index), r.width, (r.data as Buffer).toString('hex')])).toEqual(
      expected.tiles.map((t) => [t.level, t.index, t.width, t.data.toString('hex')]),
    );
    // Insert-only, even for the database's owner.
    await expect(ledger.db.admin`DELETE FROM window_tiles WHERE election_id = 'tiles'`).rejects.toThrow();
    await expect(ledger.db.app`UPDATE window_tiles SET width = 1 WHERE election_id = 'tiles'`).rejects.toThrow();
  });

  it('proofs of a large window pick their subtrees from stored tile nodes and share the upper tiles', async () => {
    await ledger.newElection('shared', 1);
    await bulkBallots('shared', 70_000);
    const w = (await sealWindow(ledger.db.app, 'shared'))!;
    const leaves = await ballotHashes('shared');
    const cache = new SharedTileCache();
    for (const seq of [12_345, 54_321, 0, 69_999, 65_535, 65_536]) {
      const counters = { tileReads: 0, hashes: 0 };
      const path = await windowInclusionPath(ledger.db.app, w, seq, { counters, cache });
      const proof = path.map((h) => Buffer.from(h, 'hex'));
      expect(verifyInclusion(leaves[seq]!, seq, w.count, proof, Buffer.from(w.root, 'hex'))).toBe(true);
      // The same path hashed from the tiles' bytes alone, as a reader of the served tiles does it.
      const plain = { tileReads: 0, hashes: 0 };
      const tiles = await readWindowTiles(ledger.db.app, w, tileReadsFor(seq, w.count));
      const fromBytes = await inclusionProofFromTiles(
        seq,
        w.count,
        async (l, i) => tiles.get(`${l}/${i}`)!.data,
        plain,
      );
      expect(fromBytes.map((h) => h.toString('hex'))).toEqual(path);
      expect(plain.hashes).toBeGreaterThan(counters.hashes);
      // Stored nodes leave only the folds of the tree's right edge to hash.
      expect(counters.hashes).toBeLessThan(20);
    }
    expect(cache.tile(w.root, { level: 1, index: 0, width: 256 })).toBeDefined();
    expect(cache.tile(w.root, { level: 0, index: 48, width: 256 })).toBeUndefined();
    // Bounded: a cache too small for one window's shared tiles keeps none of them.
    const tiny = new SharedTileCache(1000);
    await windowInclusionPath(ledger.db.app, w, 7, { cache: tiny });
    expect(tiny.cachedBytes).toBeLessThanOrEqual(1000);
  });

  it('reads a receipt, its window and its level-0 tile in one query', async () => {
    const vs = await ledger.newElection('lookup', 600);
    await ledger.castAll('lookup', vs.slice(0, 520));
    await sealWindow(ledger.db.app, 'lookup');
    await ledger.castAll('lookup', vs.slice(520));
    const leaves = await ballotHashes('lookup');
    for (const seq of [0, 255, 256, 519, 520, 599]) {
      const hex = leaves[seq]!.toString('hex');
      const found = (await receiptWithLeafTile(ledger.db.app, ledgerKey, hex))!;
      expect(found.receipt).toMatchObject({ electionId: 'lookup', seq, ballotHash: hex });
      if (seq >= 520) {
        expect([found.window, found.leafTile]).toEqual([null, null]); // not sealed yet
        continue;
      }
      expect(found.window).toMatchObject({ index: 0, firstSeq: 0, count: 520 });
      const expected = (
        await readWindowTiles(ledger.db.app, found.window!, [{ level: 0, index: seq >> 8, width: 256 }])
      )
        .values()
        .next().value!;
      expect(found.leafTile!.data.equals(expected.data) && found.leafTile!.nodes.equals(expected.nodes)).toBe(true);
      const path = await windowInclusionPath(ledger.db.app, found.window!, seq, { leafTile: found.leafTile });
      expect(path).toEqual((await auditPathFor(ledger.db.app, 'lookup', seq))!.auditPath);
    }
    expect(await receiptWithLeafTile(ledger.db.app, ledgerKey, 'ab'.repeat(32))).toBeNull();
  });

  it('a window sealed before tiles existed gets them on its first proof, or from the worker', async () => {
    const vs = await ledger.newElection('legacy', 300);
    await ledger.castAll('legacy', vs.slice(0, 200));
    await sealWindow(ledger.db.app, 'legacy');
    await ledger.castAll('legacy', vs.slice(200));
    await sealWindow(ledger.db.app, 'legacy');
    const dropTiles = () =>
      ledger.db.admin.begin(async (tx) => {
        await tx`ALTER TABLE window_tiles DISABLE TRIGGER window_tiles_no_change`;
        await tx`DELETE FROM window_tiles WHERE election_id = 'legacy'`;
        await tx`ALTER TABLE window_tiles ENABLE TRIGGER window_tiles_no_change`;
      });
    await dropTiles();
    const leaves = await ballotHashes('legacy');
    const check = async (seq: number) => {
      const { window, leafIndex, auditPath } = (await auditPathFor(ledger.db.app, 'legacy', seq))!;
      const ok = verifyInclusion(
        leaves[seq]!,
        leafIndex,
        window.count,
        auditPath.map((h) => Buffer.from(h, 'hex')),
        Buffer.from(window.root, 'hex'),
      );
      expect(ok).toBe(true);
    };
    // Concurrent first proofs store the tiles once (no duplicate key error).
    await Promise.all([0, 1, 199].map(check));
    const count = async () =>
      Number((await ledger.db.admin`SELECT count(*) AS n FROM window_tiles WHERE election_id = 'legacy'`)[0]!.n);
    expect(await count()).toBe(1); // window 0's one partial tile; window 1 has none yet
    expect(await storeMissingWindowTiles(ledger.db.app)).toBeGreaterThanOrEqual(1);
    expect(await count()).toBe(2);
    await check(250);
    await dropTiles();
    expect(await storeMissingWindowTiles(ledger.db.app)).toBeGreaterThanOrEqual(2);
    expect(await count()).toBe(2);
  });

  it('refuses to store tiles for a window sealed before tiles existed whose ballots were changed since', async () => {
    const vs = await ledger.newElection('tamper', 4);
    await ledger.castAll('tamper', vs);
    await sealWindow(ledger.db.app, 'tamper');
    await ledger.db.admin.begin(async (tx) => {
      await tx`ALTER TABLE ballots DISABLE TRIGGER ballots_no_update`;
      await tx`UPDATE ballots SET ballot_hash = ${randomBytes(32)} WHERE election_id = 'tamper' AND seq = 2`;
      await tx`ALTER TABLE ballots ENABLE TRIGGER ballots_no_update`;
      await tx`ALTER TABLE window_tiles DISABLE TRIGGER window_tiles_no_change`;
      await tx`DELETE FROM window_tiles WHERE election_id = 'tamper'`;
      await tx`ALTER TABLE window_tiles ENABLE TRIGGER window_tiles_no_change`;
    });
    await expect(auditPathFor(ledger.db.app, 'tamper', 0)).rejects.toThrow(
      /tamper window 0 .*ballots table was changed/,
    );
  });
});
