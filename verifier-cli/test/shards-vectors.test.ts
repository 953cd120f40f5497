// The verifier's own shard code (src/shards.ts, the row check, receipts, the interval check) against
// docs/test-vectors/shards.json, which is computed from docs/protocol.md section 13 with @noble/*.
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { checkIntervals } from '../src/audit/intervals.js';
import { checkLedgerRow, type RowContext } from '../src/audit/row-check.js';
import type { ChainInterval } from '../src/chain.js';
import { receiptShardProblem } from '../src/commands/receipt-interval.js';
import { verifyStrict } from '../src/ed25519.js';
import { fromHex, toHex } from '../src/hex.js';
import { jcs } from '../src/jcs.js';
import { leafHash, rootFromInclusionProof } from '../src/merkle.js';
import {
  ballotRules,
  manifestHash,
  manifestProblem,
  parseManifest,
  receiptMessage,
  receiptProblem,
  shardCount,
  type Receipt,
} from '../src/protocol.js';
import { intervalRoot, shardOf, windowRecordBytes, type WindowRecord } from '../src/shards.js';

interface Interval {
  index: number;
  windowCount: number;
  ballotCount: number;
  root: string;
  records: WindowRecord[];
  recordBytes: string[];
  auditPaths: { recordIndex: number; auditPath: string[] }[];
}
interface ShardsVectors {
  shardOf: { credential: string; sha256: string; uint32: number; shards: { shards: number; shard: number }[] }[];
  windowRecords: { record: WindowRecord; bytes: string; leafHash: string }[];
  election: {
    manifest: Record<string, unknown> & { shards: number };
    manifestJcs: string;
    manifestHash: string;
    ledgerKey: string;
    shards: {
      shard: number;
      ledger: {
        shard: number;
        seq: number;
        ballotHash: string;
        ballot: { credential: string };
        signature: string;
        receivedAt: string;
      }[];
      windows: WindowRecord[];
    }[];
    intervals: Interval[];
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
const { election } = v;

describe('shards.json: shardOf and window records', () => {
  it("shardOf for every credential and S in 1, 2, 16, 1024 (the digest checked with noble's SHA-256)", () => {
    for (const c of v.shardOf) {
      expect(bytesToHex(sha256(hexToBytes(c.credential)))).toBe(c.sha256);
      for (const { shards, shard } of c.shards) expect(shardOf(fromHex(c.credential), shards)).toBe(shard);
    }
    // Digests whose first byte is 0x80 or more: the uint32 must not go negative.
    expect(v.shardOf.some((c) => c.uint32 >= 2 ** 31)).toBe(true);
  });

  it('the 60 record bytes and their RFC 6962 leaf hash, up to the largest integers', () => {
    for (const c of v.windowRecords) {
      const bytes = windowRecordBytes(c.record);
      expect(toHex(bytes)).toBe(c.bytes);
      expect(toHex(leafHash(bytes))).toBe(c.leafHash);
    }
  });
});

describe('shards.json: the election of 4 shards', () => {
  const manifest = parseManifest(election.manifest);
  const context: RowContext = { rules: ballotRules(manifest), engine: 'node', shards: shardCount(manifest) };

  it('the manifest is valid with its shards, and hashes to the vector', () => {
    expect(manifestProblem(election.manifest)).toBeNull();
    expect(shardCount(manifest)).toBe(4);
    expect(toHex(manifestHash(election.manifest))).toBe(election.manifestHash);
    for (const shards of [0, 1025, 2.5, '4'])
      expect(manifestProblem({ ...election.manifest, shards })).toMatch(/manifest\.shards/);
  });

  it("every ledger row checks in its shard (signature, hash, the credential's shard), and not in another", () => {
    for (const s of election.shards) {
      for (const [k, row] of s.ledger.entries()) {
        // As the export writes it: the stored ballot text (JCS) embedded as is.
        const line = (shard: number) =>
          `{"shard":${shard},"seq":${row.seq},"ballotHash":"${row.ballotHash}","ballot":${jcs(row.ballot)},` +
          `"signature":"${row.signature}","receivedAt":"${row.receivedAt}"}`;
        const result = checkLedgerRow(line(row.shard), k + 1, context);
        expect(result.problems).toEqual([]);
        expect(result).toMatchObject({ shard: s.shard, seq: row.seq, leaf: row.ballotHash, signatureValid: true });
        const moved = checkLedgerRow(line((s.shard + 1) % 4), 1, context);
        expect(moved.problems.map((p) => p.code)).toEqual(['wrong-shard']);
        expect(moved.choices).toBeNull();
      }
    }
  });

  it('each interval: its root over the records, every record audit path', () => {
    for (const i of election.intervals) {
      expect(i.records.map((r) => toHex(windowRecordBytes(r)))).toEqual(i.recordBytes);
      expect(toHex(intervalRoot(i.records))).toBe(i.root);
      for (const p of i.auditPaths) {
        const root = rootFromInclusionProof(windowRecordBytes(i.records[p.recordIndex]!), {
          leafIndex: p.recordIndex,
          treeSize: i.windowCount,
          auditPath: p.auditPath.map(fromHex),
        });
        expect(toHex(root)).toBe(i.root);
      }
    }
  });

  it("the audit's interval check accepts the intervals and gives every shard's windows", () => {
    const onChain: ChainInterval[] = election.intervals.map((i) => ({ ...i, anchoredAt: 1 }));
    const anchored = election.intervals.reduce((n, i) => n + i.ballotCount, 0);
    const served = election.intervals.map((i) => ({ ...i, windows: i.records }));
    const checked = checkIntervals(onChain, served, 4, anchored);
    expect(checked.findings).toEqual([]);
    for (const s of election.shards) {
      expect(checked.windows[s.shard]!.map(({ anchoredAt: _, ...w }) => w)).toEqual(
        s.windows.map((w) => ({ index: w.windowIndex, firstSeq: w.firstSeq, count: w.count, root: w.root })),
      );
    }
  });

  it('receipts name their shard, and the ledger key signs it', () => {
    const key = fromHex(election.ledgerKey);
    for (const { receipt, message } of election.receipts) {
      expect(receiptProblem(receipt)).toBeNull();
      expect(receiptShardProblem(receipt, 4)).toBeNull();
      expect(receiptShardProblem(receipt, 1)).toMatch(/one shard/);
      expect(Buffer.from(receiptMessage(receipt)).toString('utf8')).toBe(message);
      expect(verifyStrict(key, receiptMessage(receipt), fromHex(receipt.signature))).toBeNull();
      const { shard: _shard, ...unsharded } = receipt;
      expect(receiptShardProblem(unsharded, 4)).toMatch(/names no shard/);
      expect(verifyStrict(key, receiptMessage(unsharded), fromHex(receipt.signature))).not.toBeNull();
      const elsewhere = { ...receipt, shard: receipt.shard! + 1 };
      expect(verifyStrict(key, receiptMessage(elsewhere), fromHex(receipt.signature))).not.toBeNull();
    }
  });

  it('two levels: ballot hash → window root → interval root', () => {
    const { bundle, windowRecord, receiptMessage: message } = v.twoLevel;
    const { receipt, window: w, inclusion, interval } = bundle;
    expect(Buffer.from(receiptMessage(receipt)).toString('utf8')).toBe(message);
    expect(w.firstSeq + inclusion.leafIndex).toBe(receipt.seq);
    const windowRoot = rootFromInclusionProof(fromHex(receipt.ballotHash), {
      leafIndex: inclusion.leafIndex,
      treeSize: w.count,
      auditPath: inclusion.auditPath.map(fromHex),
    });
    expect(toHex(windowRoot)).toBe(w.root);
    const record = windowRecordBytes({
      shard: w.shard,
      windowIndex: w.index,
      firstSeq: w.firstSeq,
      count: w.count,
      root: toHex(windowRoot),
    });
    expect(toHex(record)).toBe(windowRecord);
    const root = rootFromInclusionProof(record, {
      leafIndex: interval.recordIndex,
      treeSize: interval.windowCount,
      auditPath: interval.auditPath.map(fromHex),
    });
    expect(toHex(root)).toBe(interval.root);
    expect(election.intervals[interval.index]!.root).toBe(interval.root);
  });
});
