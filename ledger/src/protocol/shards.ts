// Shards (docs/protocol.md section 13): which shard a credential's ballot belongs to, and the records of
// the interval trees that anchor a sharded election's windows in one transaction per interval.
import { hash as nodeCryptoHash } from 'node:crypto';
import { auditPath, merkleRoot } from './merkle.js';
import type { Manifest } from './protocol.js';

/** The manifest's shard count: 1 when it names none. */
export const shardCount = (manifest: Pick<Manifest, 'shards'>): number => manifest.shards ?? 1;

/**
 * shard = uint32_be(SHA-256(credential)[0..4]) mod S, over the credential's 32 raw bytes: one credential
 * always lands in one shard, so "one ballot per credential" is a check within one shard.
 */
export function shardOf(credential: Uint8Array | string, shards: number): number {
  if (shards === 1) return 0;
  const bytes = typeof credential === 'string' ? Buffer.from(credential, 'hex') : credential;
  const digest = nodeCryptoHash('sha256', bytes, 'buffer') as unknown as Buffer;
  return digest.readUInt32BE(0) % shards;
}

/** A shard's sealed window as an interval tree names it. */
export interface ShardWindowRecord {
  shard: number;
  windowIndex: number;
  firstSeq: number;
  count: number;
  /** The window's RFC 6962 root, lowercase hex. */
  root: string;
}

export const SHARD_WINDOW_RECORD_BYTES = 60;

/**
 * The interval tree's leaf data: uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) ||
 * uint64_be(count) || root, 60 bytes, what the contract's verifyIntervalInclusion hashes (abi.encodePacked).
 */
export function shardWindowRecordBytes(r: ShardWindowRecord): Buffer {
  const b = Buffer.alloc(SHARD_WINDOW_RECORD_BYTES);
  b.writeUInt32BE(r.shard, 0);
  b.writeBigUInt64BE(BigInt(r.windowIndex), 4);
  b.writeBigUInt64BE(BigInt(r.firstSeq), 12);
  b.writeBigUInt64BE(BigInt(r.count), 20);
  b.write(r.root, 28, 32, 'hex');
  return b;
}

/** Records in the interval tree's order: by shard, then window index. */
export function sortShardWindowRecords<T extends ShardWindowRecord>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => a.shard - b.shard || a.windowIndex - b.windowIndex);
}

/** The interval root: MTH over the records' bytes, in the order given (sortShardWindowRecords). */
export function intervalRoot(records: readonly ShardWindowRecord[]): Buffer {
  return merkleRoot(records.map(shardWindowRecordBytes));
}

/** The audit path of record `index` in the interval tree. */
export function intervalAuditPath(records: readonly ShardWindowRecord[], index: number): Buffer[] {
  return auditPath(records.map(shardWindowRecordBytes), index);
}
