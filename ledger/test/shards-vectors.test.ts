// The server's shard encodings (ledger/src/protocol/shards.ts) against docs/test-vectors/shards.json: shardOf,
// window records, interval roots and paths, the sharded manifest, receipts naming their shard, and a two-level
// inclusion proof. The vectors are computed from docs/protocol.md section 13 with @noble/*, not with this code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { merkleRoot, verifyInclusion } from '../src/protocol/merkle.js';
import {
  ballotHash,
  manifestHash,
  normalizeManifest,
  receiptMessage,
  signReceipt,
  verifyReceipt,
  type Receipt,
} from '../src/protocol/protocol.js';
import {
  intervalAuditPath,
  intervalRoot,
  shardCount,
  shardOf,
  shardWindowRecordBytes,
  sortShardWindowRecords,
  type ShardWindowRecord,
} from '../src/protocol/shards.js';

interface ShardsVectors {
  shardOf: { credential: string; sha256: string; uint32: number; shards: { shards: number; shard: number }[] }[];
  windowRecords: { record: ShardWindowRecord; bytes: string; leafHash: string }[];
  election: {
    manifest: Record<string, unknown> & { shards: number; ledgerKey: string };
    manifestHash: string;
    ledgerSeed: string;
    ledgerKey: string;
    shards: {
      shard: number;
      ledger: { shard: number; seq: number; ballotHash: string; ballot: never; signature: string }[];
      windows: ShardWindowRecord[];
    }[];
    intervals: {
      index: number;
      windowCount: number;
      ballotCount: number;
      root: string;
      records: ShardWindowRecord[];
      recordBytes: string[];
      auditPaths: { recordIndex: number; auditPath: string[] }[];
    }[];
    receipts: { receipt: Receipt; message: string }[];
  };
  twoLevel: {
    receiptMessage: string;
    windowRecord: string;
    bundle: {
      receipt: Receipt;
      window: { shard: number; index: number; firstSeq: number; count: number; root: string };
      inclusion: { leafIndex: number; auditPath: string[] };
      interval: { index: number; windowCount: number; root: string; recordIndex: number; auditPath: string[] };
    };
  };
}

const v = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/shards.json', import.meta.url), 'utf8'),
) as ShardsVectors;
const buf = (h: string) => Buffer.from(h, 'hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('shards.json against the ledger', () => {
  it('shardOf: every credential, for 1, 2, 16 and 1024 shards (hex and bytes)', () => {
    expect(v.shardOf.length).toBeGreaterThan(4);
    for (const c of v.shardOf) {
      expect(buf(c.sha256).readUInt32BE(0)).toBe(c.uint32);
      for (const { shards, shard } of c.shards) {
        expect(shardOf(c.credential, shards)).toBe(shard);
        expect(shardOf(buf(c.credential), shards)).toBe(shard);
      }
    }
    // The cases are not all one shard: the vectors would not tell a constant from the rule.
    expect(new Set(v.shardOf.map((c) => c.shards.find((s) => s.shards === 16)!.shard)).size).toBeGreaterThan(2);
  });

  it('window records: the 60 bytes and their leaf hash', () => {
    for (const c of v.windowRecords) {
      const bytes = shardWindowRecordBytes(c.record);
      expect(hex(bytes)).toBe(c.bytes);
      expect(bytes.length).toBe(60);
      expect(hex(merkleRoot([bytes]))).toBe(c.leafHash); // MTH of one leaf = its leaf hash
    }
  });

  it('the manifest of 4 shards keeps its shards and hashes as the vectors say', () => {
    const m = normalizeManifest(v.election.manifest, v.election.manifest.ledgerKey);
    expect(m.shards).toBe(4);
    expect(shardCount(m)).toBe(4);
    expect(hex(manifestHash(m))).toBe(v.election.manifestHash);
  });

  it("each shard: ballots in their credential's shard, seqs from 0, window roots", () => {
    const S = v.election.manifest.shards;
    for (const s of v.election.shards) {
      expect(s.ledger.map((r) => r.seq)).toEqual(s.ledger.map((_, i) => i));
      for (const r of s.ledger) {
        expect(shardOf((r.ballot as { credential: string }).credential, S)).toBe(s.shard);
        expect(hex(ballotHash({ ballot: r.ballot, signature: r.signature }))).toBe(r.ballotHash);
      }
      for (const w of s.windows) {
        const leaves = s.ledger.slice(w.firstSeq, w.firstSeq + w.count).map((r) => buf(r.ballotHash));
        expect(hex(merkleRoot(leaves))).toBe(w.root);
      }
    }
  });

  it('intervals: records in tree order, their root, every audit path', () => {
    for (const i of v.election.intervals) {
      expect(sortShardWindowRecords([...i.records].reverse())).toEqual(i.records);
      expect(i.records.map((r) => hex(shardWindowRecordBytes(r)))).toEqual(i.recordBytes);
      expect(hex(intervalRoot(i.records))).toBe(i.root);
      expect(i.records).toHaveLength(i.windowCount);
      expect(i.records.reduce((n, r) => n + r.count, 0)).toBe(i.ballotCount);
      for (const p of i.auditPaths) {
        expect(intervalAuditPath(i.records, p.recordIndex).map(hex)).toEqual(p.auditPath);
        const record = shardWindowRecordBytes(i.records[p.recordIndex]!);
        expect(verifyInclusion(record, p.recordIndex, i.windowCount, p.auditPath.map(buf), buf(i.root))).toBe(true);
      }
    }
  });

  it('receipts name their shard and are signed with it', () => {
    const key = ledgerKeyFromSeed(buf(v.election.ledgerSeed));
    expect(key.publicKeyHex).toBe(v.election.ledgerKey);
    for (const c of v.election.receipts) {
      const { signature, ...body } = c.receipt;
      expect(Object.keys(c.receipt)).toEqual([
        'version',
        'electionId',
        'shard',
        'seq',
        'ballotHash',
        'receivedAt',
        'signature',
      ]);
      expect(receiptMessage(body).toString('utf8')).toBe(c.message);
      expect(signReceipt(key.privateKey, body)).toEqual(c.receipt);
      expect(verifyReceipt(buf(v.election.ledgerKey), c.receipt)).toBe(true);
      // The shard is signed: another shard, or none, no longer verifies.
      expect(verifyReceipt(buf(v.election.ledgerKey), { ...c.receipt, shard: c.receipt.shard! + 1 })).toBe(false);
      const { shard: _shard, ...unsharded } = c.receipt;
      expect(verifyReceipt(buf(v.election.ledgerKey), unsharded)).toBe(false);
    }
  });

  it('two levels: ballot to window root, window record to interval root', () => {
    const { bundle, windowRecord, receiptMessage: message } = v.twoLevel;
    const { receipt, window: w, inclusion, interval } = bundle;
    expect(receiptMessage(receipt).toString('utf8')).toBe(message);
    expect(w.shard).toBe(receipt.shard);
    expect(w.firstSeq + inclusion.leafIndex).toBe(receipt.seq);
    const ballotPath = inclusion.auditPath.map(buf);
    expect(verifyInclusion(buf(receipt.ballotHash), inclusion.leafIndex, w.count, ballotPath, buf(w.root))).toBe(true);
    const record = shardWindowRecordBytes({ ...w, windowIndex: w.index });
    expect(hex(record)).toBe(windowRecord);
    const recordPath = interval.auditPath.map(buf);
    expect(verifyInclusion(record, interval.recordIndex, interval.windowCount, recordPath, buf(interval.root))).toBe(
      true,
    );
    // Another record index, or the ballot's path at another leaf, does not lead there.
    const otherIndex = (interval.recordIndex + 1) % interval.windowCount;
    expect(verifyInclusion(record, otherIndex, interval.windowCount, recordPath, buf(interval.root))).toBe(false);
    const otherLeaf = (inclusion.leafIndex + 1) % w.count;
    expect(verifyInclusion(buf(receipt.ballotHash), otherLeaf, w.count, ballotPath, buf(w.root))).toBe(false);
  });
});
