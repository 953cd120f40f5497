import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';

import { MerkleTree, merkleRoot, verifyInclusion } from '../src/protocol/merkle.js';
import { referenceLeafHash, referencePath, referenceRoot } from './helpers/rfc6962.js';
import {
  auditPathFor,
  listWindows,
  sealWindow,
  windowForSeq,
  WindowTreeCache,
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
    const cache = new WindowTreeCache();
    for (let seq = 0; seq < leaves.length; seq++) {
      const proof = (await auditPathFor(ledger.db.app, 'proofs', seq, { cache }))!;
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
    expect(cache.cachedBytes).toBeGreaterThan(0);
    expect(await auditPathFor(ledger.db.app, 'proofs', leaves.length)).toBeNull();
  });

  it('the tree cache is bounded and shares concurrent loads', async () => {
    const leaf = (i: number) => Buffer.alloc(32, i);
    const tree = (n: number) => new MerkleTree(Buffer.concat(Array.from({ length: n }, (_, i) => leaf(i))));
    const cache = new WindowTreeCache(tree(4).byteLength * 2);
    let loads = 0;
    const load = (n: number) => async () => {
      loads++;
      return tree(n);
    };
    await Promise.all([cache.get('a', load(4)), cache.get('a', load(4)), cache.get('a', load(4))]);
    expect(loads).toBe(1);
    await cache.get('b', load(4));
    await cache.get('c', load(4)); // evicts a
    expect(cache.cachedBytes).toBeLessThanOrEqual(cache.maxBytes);
    await cache.get('a', load(4));
    expect(loads).toBe(4);
    // The tree (and its paths) against RFC 6962's recursive definitions, for every shape up to 40 leaves.
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(i));
      const t = tree(n);
      expect(t.root()).toEqual(referenceRoot(leaves));
      for (let i = 0; i < n; i++) expect(t.auditPath(i)).toEqual(referencePath(i, leaves));
    }
  });

  it('refuses to prove against a window whose ballots were changed around the application', async () => {
    const vs = await ledger.newElection('tamper', 4);
    await ledger.castAll('tamper', vs);
    await sealWindow(ledger.db.app, 'tamper');
    await ledger.db.admin.begin(async (tx) => {
      await tx`ALTER TABLE ballots DISABLE TRIGGER ballots_no_update`;
      await tx`UPDATE ballots SET ballot_hash = ${randomBytes(32)} WHERE election_id = 'tamper' AND seq = 2`;
      await tx`ALTER TABLE ballots ENABLE TRIGGER ballots_no_update`;
    });
    await expect(auditPathFor(ledger.db.app, 'tamper', 0, { cache: new WindowTreeCache() })).rejects.toThrow(
      /tamper window 0 .*ballots table was changed/,
    );
  });
});
