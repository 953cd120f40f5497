// Sharded elections in the ledger (docs/protocol.md section 13): a ballot's shard is its credential's, each
// shard a gap-free sequence of its own with its own windows, receipts naming the shard, intervals gathering
// the shards' windows into one root, two-level inclusion proofs, and the tally over every shard.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, testManifest, voters } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { ballotHash, verifyReceipt } from '../src/protocol/protocol.js';
import { verifyInclusion } from '../src/protocol/merkle.js';
import { intervalRoot, shardOf, shardWindowRecordBytes } from '../src/protocol/shards.js';
import {
  auditPathFor,
  closeElection,
  computeTally,
  createElection,
  formInterval,
  intervalInclusionFor,
  intervalRecords,
  receiptFor,
  sealWindow,
  shardCommittedCounts,
  validateRoll,
  type IngestOutcome,
} from '../src/index.js';
import { useTestLedger } from './helpers/test-ledger.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 17));
const ledgerPub = Buffer.from(ledgerKey.publicKeyHex, 'hex');
const ledger = useTestLedger(ledgerKey, { threads: 2 });

describe('shards', () => {
  it('shardOf is uint32_be(SHA-256(credential)[0..4]) mod S, and 0 for one shard', () => {
    const cred = '11'.repeat(32);
    // SHA-256 through createHash, apart from the implementation's crypto.hash.
    const digest = createHash('sha256').update(Buffer.from(cred, 'hex')).digest();
    expect(shardOf(cred, 16)).toBe(digest.readUInt32BE(0) % 16);
    expect(shardOf(cred, 1)).toBe(0);
    expect(shardOf(Buffer.from(cred, 'hex'), 1024)).toBe(digest.readUInt32BE(0) % 1024);
  });

  it('a 16-shard election: gap-free seq per shard, one ballot per credential, receipts naming the shard', async () => {
    const S = 16;
    const id = 'sharded-16';
    const m = testManifest(id, ledgerKey.publicKeyHex, { shards: S });
    expect(m.shards).toBe(S);
    const vs = voters(200, `${id}-`);
    await createElection(ledger.db.app, m, await validateRoll(vs.map((v) => v.credential)));

    // Every voter once, and 40 of them a second, different ballot at the same time (duplicates).
    const firsts = vs.map((v, i) => ledger.ingestor.submit(id, ballotFor(v, id, selectionsFor(i))));
    const seconds = vs.slice(0, 40).map((v, i) => ledger.ingestor.submit(id, ballotFor(v, id, selectionsFor(i + 1))));
    const outcomes: IngestOutcome[] = await Promise.all([...firsts, ...seconds]);
    const receipts = outcomes.flatMap((o) => (o.kind === 'accepted' ? [o.receipt] : []));
    expect(receipts).toHaveLength(200); // exactly one accepted per credential
    expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(40);

    const perShard = new Map<number, number[]>();
    for (const r of receipts) {
      expect(verifyReceipt(ledgerPub, r)).toBe(true);
      expect(r.shard).toBeTypeOf('number');
      const [row] = await ledger.db
        .admin`SELECT credential, shard FROM ballots WHERE ballot_hash = decode(${r.ballotHash}, 'hex')`;
      expect(r.shard).toBe(shardOf(row!.credential as Buffer, S));
      expect(Number(row!.shard)).toBe(r.shard);
      perShard.set(r.shard!, [...(perShard.get(r.shard!) ?? []), r.seq]);
      // The receipt read back later is the same, shard and all.
      expect(await receiptFor(ledger.db.app, ledgerKey, r.ballotHash)).toEqual(r);
    }
    expect(perShard.size).toBeGreaterThan(8); // 200 credentials spread over the 16 shards
    for (const seqs of perShard.values()) {
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i)); // 0 .. n-1 in each shard
    }
    const counts = await shardCommittedCounts(ledger.db.app, id);
    expect(counts).toHaveLength(S);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
    for (const [shard, seqs] of perShard) expect(counts[shard]).toBe(seqs.length);

    // Seal every shard, gather the windows into an interval, and check two-level proofs.
    for (let shard = 0; shard < S; shard++) await sealWindow(ledger.db.app, id, { shard });
    const interval = await formInterval(ledger.db.app, id);
    expect(interval).not.toBeNull();
    expect(interval!.index).toBe(0);
    expect(interval!.windowCount).toBe(perShard.size);
    expect(interval!.ballotCount).toBe(200);
    const records = await intervalRecords(ledger.db.app, id, 0);
    expect(intervalRoot(records).toString('hex')).toBe(interval!.root);
    expect(await formInterval(ledger.db.app, id)).toBeNull(); // nothing waits any more

    for (const r of receipts.slice(0, 25)) {
      const proof = await auditPathFor(ledger.db.app, id, r.seq, { shard: r.shard! });
      expect(proof!.window.shard).toBe(r.shard);
      const leaf = Buffer.from(r.ballotHash, 'hex');
      const path = proof!.auditPath.map((h) => Buffer.from(h, 'hex'));
      expect(
        verifyInclusion(leaf, proof!.leafIndex, proof!.window.count, path, Buffer.from(proof!.window.root, 'hex')),
      ).toBe(true);
      const inInterval = await intervalInclusionFor(ledger.db.app, proof!.window);
      const record = shardWindowRecordBytes({
        shard: proof!.window.shard,
        windowIndex: proof!.window.index,
        firstSeq: proof!.window.firstSeq,
        count: proof!.window.count,
        root: proof!.window.root,
      });
      expect(
        verifyInclusion(
          record,
          inInterval!.recordIndex,
          interval!.windowCount,
          inInterval!.auditPath.map((h) => Buffer.from(h, 'hex')),
          Buffer.from(interval!.root, 'hex'),
        ),
      ).toBe(true);
    }

    // The tally is the sum over every shard.
    const closed = await closeElection(ledger.db.app, id);
    expect(closed.nextSeq).toBe(200);
    const recount = await computeTally(ledger.db.app, id);
    expect(recount.totalBallots).toBe(200);
    // The counts are those of the accepted ballots (for 40 credentials, whichever of their two won).
    const sentBallots = [
      ...vs.map((v, i) => ballotFor(v, id, selectionsFor(i))),
      ...vs.slice(0, 40).map((v, i) => ballotFor(v, id, selectionsFor(i + 1))),
    ];
    const byHash = new Map(sentBallots.map((b) => [ballotHash(b).toString('hex'), b.ballot.selections]));
    const expected = new Map<string, number>();
    for (const r of receipts) {
      const selections = byHash.get(r.ballotHash);
      expect(selections).toBeDefined(); // each credential's one stored ballot is one it sent
      for (const [c, ks] of Object.entries(selections!))
        for (const k of ks) expected.set(`${c}/${k}`, (expected.get(`${c}/${k}`) ?? 0) + 1);
    }
    for (const [c, choices] of Object.entries(recount.tally))
      for (const [k, n] of Object.entries(choices)) expect(n).toBe(expected.get(`${c}/${k}`) ?? 0);
    const [stored] = await ledger.db
      .admin`SELECT count(DISTINCT credential)::int AS n FROM ballots WHERE election_id = ${id}`;
    expect(stored!.n).toBe(200);
  });

  it('an election of one shard keeps version 1 bytes: no shard in receipts or manifest', async () => {
    const id = 'unsharded';
    const m = testManifest(id, ledgerKey.publicKeyHex);
    expect('shards' in m).toBe(false);
    const vs = voters(3, `${id}-`);
    await createElection(ledger.db.app, m, await validateRoll(vs.map((v) => v.credential)));
    const o = await ledger.ingestor.submit(id, ballotFor(vs[0]!, id));
    expect(o.kind).toBe('accepted');
    if (o.kind !== 'accepted') return;
    expect(Object.keys(o.receipt)).toEqual(['version', 'electionId', 'seq', 'ballotHash', 'receivedAt', 'signature']);
  });
});
