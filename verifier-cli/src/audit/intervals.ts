// Step 3 of the audit for an election of several shards (docs/protocol.md 13.4): the chain holds one root per
// anchor interval (getInterval: root, windowCount, ballotCount), and the source lists each interval's records,
// the 60-byte names of the shard windows it gathers. Here:
//   - every interval on chain has records in the source, in (shard, window index) order, as many as its
//     windowCount, whose counts add up to its ballotCount and whose RFC 6962 root is the chain's root
//     (interval-mismatch otherwise); the intervals' ballotCounts add up to the chain's anchored ballots;
//   - per shard, the windows those records name come in window order, each in exactly one interval, from
//     window 0 and seq 0 on, each starting where the one before ends (window-interval-mismatch,
//     window-range-mismatch);
//   - the windows the source lists per shard (…/windows?shard=s) agree with the records.
// The records so placed are each shard's anchored windows: the ledger scan recomputes every one of their roots.
// A record of an interval whose root does not match is still used, so that the scan names the window (and
// shard) that differs from the ledger.
import type { ChainElection, ChainInterval, ChainReader, ChainWindow } from '../chain.js';
import { finding, InputError, type Finding } from '../errors.js';
import { isHex, short, toHex } from '../hex.js';
import { counted } from '../plural.js';
import { isPlainObject } from '../protocol.js';
import { compareRecords, intervalRoot, recordProblem, toRecord, type WindowRecord } from '../shards.js';
import type { ElectionSource } from '../sources/source.js';
import { range } from './seq.js';

/** Requests of GET …/windows?shard=s in flight at once. */
const SHARD_WINDOW_READS = 8;

export interface ShardedWindows {
  /** Per shard, the windows anchored through the intervals, in window order; anchoredAt is the interval's. */
  windows: ChainWindow[][];
  /** The chain's intervals. */
  intervals: ChainInterval[];
  findings: Finding[];
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads the chain's intervals, then the source's records and windows (in that order: the server forms an
 * interval before it anchors it, so the records of every interval on chain are there), and checks them.
 */
export async function readShardedWindows(
  chain: ChainReader,
  source: ElectionSource,
  electionId: string,
  shards: number,
  registration: ChainElection,
): Promise<ShardedWindows> {
  const findings: Finding[] = [];
  const windowsOnChain = await chain.windowCount(electionId);
  if (windowsOnChain > 0)
    findings.push(
      finding(
        'interval-mismatch',
        `the chain anchors ${counted(windowsOnChain, 'window')} one by one (anchorWindow) for an election of ` +
          `${shards} shards, which anchors intervals of shard windows`,
      ),
    );
  const intervals = await chain.intervals(electionId, await chain.intervalCount(electionId));
  const served = source.intervals === undefined ? null : await source.intervals();
  if (served === null && intervals.length > 0)
    throw new InputError(
      `election ${electionId} has ${shards} shards and ${counted(intervals.length, 'interval')} on chain: the audit ` +
        'needs the intervals and their records (GET …/intervals, or --intervals FILE)',
    );
  const checked = checkIntervals(intervals, served ?? [], shards, registration.anchoredBallots);
  findings.push(...checked.findings);
  if (source.shardWindows !== undefined) {
    const listed: (unknown[] | null)[] = new Array(shards).fill(null);
    let next = 0;
    const reader = async (): Promise<void> => {
      while (next < shards) {
        const s = next++;
        listed[s] = await source.shardWindows!(s);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SHARD_WINDOW_READS, shards) }, reader));
    for (const [s, list] of listed.entries()) {
      if (list === null) continue;
      findings.push(...compareListedWindows(s, list, checked.windows[s]!, checked.nextWindow[s]!, registration.closed));
    }
  }
  return { windows: checked.windows, intervals, findings };
}

/** The checks on the intervals' records, and each shard's anchored windows they give. */
export function checkIntervals(
  onChain: readonly ChainInterval[],
  served: readonly unknown[],
  shards: number,
  anchoredBallots: number,
): { windows: ChainWindow[][]; nextWindow: number[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const mismatch = (message: string, where: { interval?: number; shard?: number } = {}): void => {
    findings.push(finding('interval-mismatch', message, where));
  };

  // The source's intervals by index; null records: unusable (reported).
  const records = new Map<number, WindowRecord[] | null>();
  for (const [k, v] of served.entries()) {
    if (!isPlainObject(v) || !isIndex(v.index)) {
      mismatch(`entry ${k} of the intervals list is not an interval with an index`);
      continue;
    }
    const index = v.index;
    if (records.has(index)) {
      mismatch(`interval ${index} is listed twice`, { interval: index });
      continue;
    }
    const list = Array.isArray(v.windows) ? v.windows : Array.isArray(v.records) ? v.records : undefined;
    if (list === undefined) {
      mismatch(`interval ${index} lists no window records`, { interval: index });
      records.set(index, null);
      continue;
    }
    let usable: WindowRecord[] | null = [];
    for (const [j, r] of list.entries()) {
      const problem = recordProblem(r, shards);
      if (problem === null) {
        usable?.push(toRecord(r as Record<string, unknown>));
        continue;
      }
      const shard = isPlainObject(r) && isIndex(r.shard) && r.shard < shards ? r.shard : undefined;
      mismatch(`interval ${index}, record ${j}: ${problem}`, { interval: index, shard });
      usable = null;
    }
    records.set(index, usable);
  }

  const total = onChain.reduce((n, i) => n + i.ballotCount, 0);
  if (total !== anchoredBallots)
    mismatch(
      `the chain's intervals hold ${counted(total, 'ballot')}, but it counts ${anchoredBallots} anchored ballots`,
    );

  const windows: ChainWindow[][] = Array.from({ length: shards }, () => []);
  const nextWindow: number[] = new Array(shards).fill(0);
  const nextSeq: number[] = new Array(shards).fill(0);
  /** Per shard: window index → the interval it was placed from. */
  const placedIn = Array.from({ length: shards }, () => new Map<number, number>());
  for (const interval of onChain) {
    const i = interval.index;
    const list = records.get(i);
    if (list === undefined) {
      mismatch(
        `interval ${i} is anchored on chain (${counted(interval.windowCount, 'window')}, ` +
          `${counted(interval.ballotCount, 'ballot')}) but the source lists no records for it`,
        { interval: i },
      );
      continue;
    }
    if (list === null) continue;
    const problems: string[] = [];
    if (list.length !== interval.windowCount)
      problems.push(`${counted(list.length, 'record')}, the chain says windowCount ${interval.windowCount}`);
    const ballots = list.reduce((n, r) => n + r.count, 0);
    if (ballots !== interval.ballotCount)
      problems.push(`${counted(ballots, 'ballot')} in its records, the chain says ballotCount ${interval.ballotCount}`);
    const root = toHex(intervalRoot(list));
    if (root !== interval.root)
      problems.push(`the records' root is ${short(root)}, the chain has ${short(interval.root)}`);
    if (problems.length > 0) mismatch(`interval ${i}: ${problems.join('; ')}`, { interval: i });
    for (let j = 1; j < list.length; j++) {
      const [a, b] = [list[j - 1]!, list[j]!];
      if (compareRecords(a, b) >= 0)
        mismatch(
          `interval ${i}: record ${j} (window ${b.windowIndex} of shard ${b.shard}) does not come after record ` +
            `${j - 1} (window ${a.windowIndex} of shard ${a.shard}) in (shard, window) order`,
          { interval: i, shard: b.shard },
        );
    }

    // Each record in its shard's sequence of windows.
    for (const r of list) {
      const s = r.shard;
      const where = { shard: s, window: r.windowIndex, interval: i };
      const name = `window ${r.windowIndex} of shard ${s}`;
      if (r.windowIndex < nextWindow[s]!) {
        const first = placedIn[s]!.get(r.windowIndex);
        findings.push(
          finding(
            'window-interval-mismatch',
            first === undefined
              ? `${name} comes in interval ${i}, after window ${nextWindow[s]! - 1} of its shard`
              : `${name} is in interval ${first} and again in interval ${i}`,
            where,
          ),
        );
        continue;
      }
      const skipped = r.windowIndex > nextWindow[s]!;
      if (skipped) {
        const missing = `${nextWindow[s]}${r.windowIndex - 1 > nextWindow[s]! ? `..${r.windowIndex - 1}` : ''}`;
        findings.push(
          finding(
            'window-interval-mismatch',
            `window ${missing} of shard ${s} ${r.windowIndex - 1 > nextWindow[s]! ? 'are' : 'is'} in no anchored ` +
              `interval, though window ${r.windowIndex} is (interval ${i})`,
            { shard: s, window: nextWindow[s], interval: i, seq: nextSeq[s] },
          ),
        );
      }
      if (r.firstSeq < nextSeq[s]!) {
        findings.push(
          finding(
            'window-range-mismatch',
            `${name} (${range(r.firstSeq, r.firstSeq + r.count - 1)}) overlaps the windows before it, which end ` +
              `at seq ${nextSeq[s]! - 1}`,
            { ...where, seq: r.firstSeq },
          ),
        );
        continue;
      }
      if (r.firstSeq > nextSeq[s]! && !skipped)
        findings.push(
          finding(
            'window-range-mismatch',
            `${name} starts at seq ${r.firstSeq}, but the windows of its shard before it end at seq ${nextSeq[s]! - 1}`,
            { ...where, seq: nextSeq[s] },
          ),
        );
      windows[s]!.push({
        index: r.windowIndex,
        firstSeq: r.firstSeq,
        count: r.count,
        root: r.root,
        anchoredAt: interval.anchoredAt,
      });
      placedIn[s]!.set(r.windowIndex, i);
      nextWindow[s] = r.windowIndex + 1;
      nextSeq[s] = r.firstSeq + r.count;
    }
  }
  return { windows, nextWindow, findings };
}

/**
 * Shard `shard`'s windows as the source lists them, against the anchored ones: the same range and root, none
 * anchored left out; and, once the election is closed (so nothing can be anchored since the chain was read),
 * no window said to be anchored that is in no interval.
 */
export function compareListedWindows(
  shard: number,
  listed: readonly unknown[],
  anchored: readonly ChainWindow[],
  nextWindow: number,
  closed: boolean,
): Finding[] {
  const out: Finding[] = [];
  const byIndex = new Map(anchored.map((w) => [w.index, w]));
  const seen = new Set<number>();
  for (const [k, v] of listed.entries()) {
    if (
      !isPlainObject(v) ||
      !isIndex(v.index) ||
      !isIndex(v.firstSeq) ||
      !isIndex(v.count) ||
      !isHex(v.root, 32) ||
      (Object.hasOwn(v, 'shard') && v.shard !== shard)
    ) {
      out.push(
        finding('window-range-mismatch', `shard ${shard}: entry ${k} of its windows list is not a window of it`, {
          shard,
        }),
      );
      continue;
    }
    seen.add(v.index);
    const name = `window ${v.index} of shard ${shard}`;
    const where = { shard, window: v.index };
    const a = byIndex.get(v.index);
    if (a === undefined) {
      // A window of a gap is reported by checkIntervals; one past the last anchored window is still waiting,
      // unless the source says it is anchored after the close.
      if (v.index >= nextWindow && closed && isPlainObject(v.anchor))
        out.push(
          finding(
            'window-interval-mismatch',
            `${name} is listed as anchored${typeof v.anchor.txHash === 'string' ? ` (${short(v.anchor.txHash)})` : ''}, ` +
              'but no anchored interval holds it and the election is closed',
            where,
          ),
        );
      continue;
    }
    if (v.firstSeq !== a.firstSeq || v.count !== a.count)
      out.push(
        finding(
          'window-range-mismatch',
          `${name}: listed as seq ${v.firstSeq}, ${counted(v.count, 'ballot')}; its anchored record says seq ` +
            `${a.firstSeq}, ${counted(a.count, 'ballot')}`,
          where,
        ),
      );
    if (v.root !== a.root)
      out.push(
        finding(
          'window-root-mismatch',
          `${name}: listed with root ${short(v.root)}, its anchored record has ${short(a.root)}`,
          where,
        ),
      );
  }
  for (const a of anchored)
    if (!seen.has(a.index))
      out.push(
        finding(
          'window-range-mismatch',
          `window ${a.index} of shard ${shard} is anchored (in an interval) but missing from the shard's windows list`,
          { shard, window: a.index },
        ),
      );
  return out;
}
