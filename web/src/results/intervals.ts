// The results page's check of a sharded election's anchor intervals (docs/protocol.md 13.4), apart from its
// rendering (windows.ts): each interval's root recomputed here from its 60-byte window records with the page's
// own RFC 6962 code, then compared, with its record and ballot counts, with what getInterval reads from the
// chain. The server's root and counts are never taken for the chain's. No DOM and no i18n at run time, so
// that Node tests can run it against a real API and chain.
import { sha256 } from '@noble/hashes/sha2.js';
import type { IntervalInfo } from '../api.js';
import { ChainError, type ChainInterval, type ChainReader } from '../chain.js';
import type { Key } from '../i18n.js';
import { bytesToHex, leafHash, nodeHash, windowRecordBytes, type WindowRecord } from '../protocol.js';

/** What getInterval gave for one interval: the interval, none at that index, or why it could not be read. */
export type ChainReading = { interval: ChainInterval } | { missing: true } | { error: string };

export type IntervalCheck =
  /** The root recomputed from the records, and their counts, are the chain's. */
  | { state: 'verified'; chain: ChainInterval }
  /** Not on chain, and the server does not say it is anchored: not anchored yet. */
  | { state: 'pending' }
  /** Nothing read from the chain yet. */
  | { state: 'unchecked' }
  | { state: 'unread'; message: string }
  | { state: 'failed'; reason: Key; params: Record<string, string | number> };

/** RFC 6962 §2.1 MTH over leaf data, in order (MTH of no leaf is SHA-256 of nothing; an interval has ≥ 1). */
export function merkleTreeHash(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  let level = leaves.map((leaf) => leafHash(leaf));
  // Pairing left to right and carrying an odd last node up unchanged is MTH's split at the largest power of 2.
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** What the records themselves give: the interval's root, record count and ballot count. */
export interface RecomputedInterval {
  root: string;
  windowCount: number;
  ballotCount: number;
}

/**
 * The interval's root over its records' 60-byte encodings, their number and the sum of their counts; throws a
 * RangeError naming the record when one is malformed, out of (shard, window index) order or of no shard of
 * the election's `shards`.
 */
export function recomputeInterval(records: readonly WindowRecord[], shards: number): RecomputedInterval {
  if (!Array.isArray(records) || records.length === 0) throw new RangeError('the interval lists no window record');
  const leaves: Uint8Array[] = [];
  let ballotCount = 0;
  let prev: WindowRecord | null = null;
  for (const [i, r] of records.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = windowRecordBytes(r);
    } catch (err) {
      throw new RangeError(`record ${i}: ${(err as Error).message}`);
    }
    if (r.shard >= shards) throw new RangeError(`record ${i}: shard ${r.shard} is not below ${shards}`);
    if (prev && (r.shard < prev.shard || (r.shard === prev.shard && r.windowIndex <= prev.windowIndex)))
      throw new RangeError(`record ${i}: shard ${r.shard} window ${r.windowIndex} is out of order`);
    leaves.push(bytes);
    ballotCount += r.count;
    prev = r;
  }
  return { root: bytesToHex(merkleTreeHash(leaves)), windowCount: records.length, ballotCount };
}

/** One interval judged from the API's answer and what the chain holds at its index (undefined: not read yet). */
export function judgeInterval(info: IntervalInfo, shards: number, reading: ChainReading | undefined): IntervalCheck {
  const failed = (reason: Key, params: Record<string, string | number> = {}): IntervalCheck => ({
    state: 'failed',
    reason,
    params: { index: info.index, ...params },
  });
  let own: RecomputedInterval;
  try {
    own = recomputeInterval(info.windows, shards);
  } catch (err) {
    return failed('results.interval.fail.records', { message: (err as Error).message });
  }
  // The server's interval must be what its own records make, whatever the chain says.
  if (own.root !== info.root || own.windowCount !== info.windowCount || own.ballotCount !== info.ballotCount)
    return failed('results.interval.fail.server');
  if (reading === undefined) return { state: 'unchecked' };
  if ('error' in reading) return { state: 'unread', message: reading.error };
  if ('missing' in reading) return info.anchor ? failed('results.interval.fail.missing') : { state: 'pending' };
  const chain = reading.interval;
  if (chain.windowCount !== own.windowCount || chain.ballotCount !== own.ballotCount)
    return failed('results.interval.fail.counts', {
      windows: chain.windowCount,
      ballots: chain.ballotCount,
      ownWindows: own.windowCount,
      ownBallots: own.ballotCount,
    });
  if (chain.root !== own.root) return failed('results.interval.fail.root', { root: chain.root });
  return { state: 'verified', chain };
}

/** getInterval for one interval, as a reading: a revert is "no such interval", anything else unread. */
export async function readInterval(
  reader: Pick<ChainReader, 'getInterval'>,
  electionId: string,
  index: number,
): Promise<ChainReading> {
  try {
    return { interval: await reader.getInterval(electionId, index) };
  } catch (err) {
    if (err instanceof ChainError && err.kind === 'no-interval') return { missing: true };
    return { error: (err as Error).message };
  }
}

/** Every interval read from the chain, one after another, then judged. */
export async function checkIntervals(
  intervals: readonly IntervalInfo[],
  opts: { electionId: string; shards: number; reader: Pick<ChainReader, 'getInterval'> },
): Promise<IntervalCheck[]> {
  const checks: IntervalCheck[] = [];
  for (const info of intervals) {
    const reading = await readInterval(opts.reader, opts.electionId, info.index);
    checks.push(judgeInterval(info, opts.shards, reading));
  }
  return checks;
}
