// Shards (docs/protocol.md section 13), re-implemented from the text: the shard a credential's ballots belong
// to, the 60-byte record that names a shard's window in an anchor interval, and the interval's root. Records
// come from the server or a file, so they are parsed field by field (recordProblem) before anything uses them.
import { isHex, sha256 } from './hex.js';
import { merkleTreeHead } from './merkle.js';
import { isPlainObject, MAX_SHARDS } from './protocol.js';

/** A window record's length: uint32 shard, three uint64, a 32-byte root. */
export const WINDOW_RECORD_BYTES = 60;

/**
 * shard(credential) = uint32_be(SHA-256(credential)[0..4]) mod S, over the credential's 32 raw bytes
 * (docs/protocol.md 13.2). One shard: 0.
 */
export function shardOf(credential: Uint8Array, shards: number): number {
  if (shards === 1) return 0;
  const d = sha256(credential);
  // Bytes 0..3 big-endian, as an unsigned number (no 32-bit bitwise operators: they are signed).
  return (((d[0]! * 256 + d[1]!) * 256 + d[2]!) * 256 + d[3]!) % shards;
}

/** A shard's window as an interval names it (the record's fields). */
export interface WindowRecord {
  shard: number;
  windowIndex: number;
  firstSeq: number;
  count: number;
  /** The window's RFC 6962 root, lowercase hex. */
  root: string;
}

/** uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) || root (13.4). */
export function windowRecordBytes(r: WindowRecord): Uint8Array {
  const out = new Uint8Array(WINDOW_RECORD_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, r.shard);
  view.setBigUint64(4, BigInt(r.windowIndex));
  view.setBigUint64(12, BigInt(r.firstSeq));
  view.setBigUint64(20, BigInt(r.count));
  out.set(Buffer.from(r.root, 'hex'), 28);
  return out;
}

/** An interval's root: the RFC 6962 MTH of its records' bytes, in the order given (the tree order). */
export function intervalRoot(records: readonly WindowRecord[]): Uint8Array {
  return merkleTreeHead(records.map(windowRecordBytes));
}

/** (shard, windowIndex) order: negative when `a` comes first in an interval tree. */
export function compareRecords(a: WindowRecord, b: WindowRecord): number {
  return a.shard - b.shard || a.windowIndex - b.windowIndex;
}

function isUint(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
}

/** Why `v` is not a window record of an election of `shards` shards, or null. */
export function recordProblem(v: unknown, shards: number): string | null {
  if (!isPlainObject(v)) return 'a record is not a JSON object';
  if (!isUint(v.shard, Math.min(shards, MAX_SHARDS) - 1))
    return `shard ${JSON.stringify(v.shard)} is not a shard of an election of ${shards} shards`;
  if (!isUint(v.windowIndex)) return 'windowIndex is not a non-negative integer';
  if (!isUint(v.firstSeq)) return 'firstSeq is not a non-negative integer';
  if (!isUint(v.count) || v.count < 1) return 'count is not a positive integer';
  if (!isHex(v.root, 32)) return 'root is not 32-byte lowercase hex';
  return null;
}

/** The record's fields (after recordProblem), nothing else of the object. */
export function toRecord(v: Record<string, unknown>): WindowRecord {
  return {
    shard: v.shard as number,
    windowIndex: v.windowIndex as number,
    firstSeq: v.firstSeq as number,
    count: v.count as number,
    root: v.root as string,
  };
}

/**
 * An interval as GET …/intervals lists it (`{"index","windows":[records],…}`): its index and records, or null
 * when it is not one with well-formed records. Nothing checked against the chain yet.
 */
export function servedInterval(v: unknown, shards: number): { index: number; records: WindowRecord[] } | null {
  if (!isPlainObject(v) || !isUint(v.index) || !Array.isArray(v.windows)) return null;
  if (!v.windows.every((r) => recordProblem(r, shards) === null)) return null;
  return { index: v.index, records: v.windows.map((r) => toRecord(r as Record<string, unknown>)) };
}
