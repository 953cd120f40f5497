// The pieces of the verifier's shard checks one by one, without a chain: shardOf against the test support's
// own, the intervals' records against their intervals (each way they can be wrong), the windows a server
// lists, saved lists, row fields, per-shard seqs and the published results of a sharded election.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkIntervals, compareListedWindows } from '../src/audit/intervals.js';
import { parseLedgerRow } from '../src/audit/ledger-row.js';
import { SeqTracker } from '../src/audit/seq.js';
import { compareResults, Recount } from '../src/audit/tally.js';
import type { ChainInterval, ChainWindow } from '../src/chain.js';
import { InputError } from '../src/errors.js';
import { toHex } from '../src/hex.js';
import { ballotRules, receiptProblem } from '../src/protocol.js';
import { shardOf } from '../src/shards.js';
import { listItems } from '../src/sources/source.js';
import { makeManifest } from './support/election.js';
import { intervalOf, shardOfCredential, type IntervalRecord, type TestInterval } from './support/sharded-election.js';

const root = (n: number): string => toHex(Buffer.alloc(32, n + 1));
const rec = (shard: number, windowIndex: number, firstSeq: number, count: number): IntervalRecord => ({
  shard,
  windowIndex,
  firstSeq,
  count,
  root: root(shard * 16 + windowIndex),
});
const onChain = (intervals: readonly TestInterval[]): ChainInterval[] =>
  intervals.map((i) => ({
    index: i.index,
    root: i.root,
    windowCount: i.windowCount,
    ballotCount: i.ballotCount,
    anchoredAt: 7,
  }));
/** The intervals as a source lists them (copies: the tests alter them). */
const served = (intervals: readonly TestInterval[]): unknown[] =>
  structuredClone(intervals).map((i) => ({
    index: i.index,
    windowCount: i.windowCount,
    ballotCount: i.ballotCount,
    root: i.root,
    windows: i.records,
  }));
const ballots = (intervals: readonly TestInterval[]): number => intervals.reduce((n, i) => n + i.ballotCount, 0);
const codes = (fs: readonly { code: string; shard?: number; window?: number; interval?: number }[]): string[] =>
  fs.map(
    (f) =>
      `${f.code}${f.shard === undefined ? '' : `@s${f.shard}`}${f.window === undefined ? '' : `@w${f.window}`}` +
      `${f.interval === undefined ? '' : `@i${f.interval}`}`,
  );

// Two shards, two intervals: shard 0 windows 0 (seq 0..2), 1 (3..4); shard 1 windows 0 (0..1), 1 (2..5).
const honest = [intervalOf(0, [rec(0, 0, 0, 3), rec(1, 0, 0, 2)]), intervalOf(1, [rec(0, 1, 3, 2), rec(1, 1, 2, 4)])];

describe('shardOf', () => {
  it("agrees with the test support's own code on random credentials, and is 0 with one shard", () => {
    for (let i = 0; i < 300; i++) {
      const credential = randomBytes(32);
      expect(shardOf(credential, 1)).toBe(0);
      for (const shards of [2, 3, 16, 1000, 1024]) {
        const s = shardOf(credential, shards);
        expect(s).toBe(shardOfCredential(credential.toString('hex'), shards));
        expect(s).toBeLessThan(shards);
      }
    }
  });
});

describe('the intervals against the chain', () => {
  it('honest records give each shard its windows, and no finding', () => {
    const r = checkIntervals(onChain(honest), served(honest), 2, ballots(honest));
    expect(r.findings).toEqual([]);
    expect(r.windows.map((ws) => ws.map((w) => [w.index, w.firstSeq, w.count]))).toEqual([
      [
        [0, 0, 3],
        [1, 3, 2],
      ],
      [
        [0, 0, 2],
        [1, 2, 4],
      ],
    ]);
    expect(r.nextWindow).toEqual([2, 2]);
    expect(r.windows[0]![0]!.anchoredAt).toBe(7);
  });

  it('records that are not the anchored ones: count, ballots, root, malformed, twice, missing', () => {
    const lying = served(honest) as Record<string, unknown>[];
    (lying[1]!.windows as IntervalRecord[]).push(rec(1, 2, 6, 1));
    const r = checkIntervals(onChain(honest), lying, 2, ballots(honest));
    expect(codes(r.findings)).toEqual(['interval-mismatch@i1']);
    expect(r.findings[0]!.message).toMatch(/3 records, the chain says windowCount 2; .* ballots .*; the records' root/);

    const malformed = served(honest) as Record<string, unknown>[];
    (malformed[0]!.windows as IntervalRecord[])[1] = { ...rec(1, 0, 0, 2), shard: 2 };
    expect(codes(checkIntervals(onChain(honest), malformed, 2, ballots(honest)).findings)).toEqual([
      'interval-mismatch@i0',
      // Interval 0 unusable: interval 1's windows come after windows in no interval.
      'window-interval-mismatch@s0@w0@i1',
      'window-interval-mismatch@s1@w0@i1',
    ]);

    const twice = [...served(honest), served(honest)[0]];
    expect(codes(checkIntervals(onChain(honest), twice, 2, ballots(honest)).findings)).toEqual([
      'interval-mismatch@i0',
    ]);

    const missing = checkIntervals(onChain(honest), served(honest).slice(1), 2, ballots(honest));
    expect(codes(missing.findings)).toContain('interval-mismatch@i0');
    expect(missing.findings[0]!.message).toMatch(/lists no records/);

    expect(codes(checkIntervals(onChain(honest), served(honest), 2, ballots(honest) + 1).findings)).toEqual([
      'interval-mismatch',
    ]);
  });

  it('a window in two intervals, a window skipped, windows that overlap or leave a gap in the seqs', () => {
    const again = [honest[0]!, intervalOf(1, [rec(0, 0, 0, 3), rec(0, 1, 3, 2), rec(1, 1, 2, 4)])];
    expect(codes(checkIntervals(onChain(again), served(again), 2, ballots(again)).findings)).toEqual([
      'window-interval-mismatch@s0@w0@i1',
    ]);
    expect(checkIntervals(onChain(again), served(again), 2, ballots(again)).findings[0]!.message).toMatch(
      /is in interval 0 and again in interval 1/,
    );

    const skipped = [intervalOf(0, [rec(0, 0, 0, 3)]), intervalOf(1, [rec(0, 2, 5, 1)])];
    const r = checkIntervals(onChain(skipped), served(skipped), 1, ballots(skipped));
    expect(codes(r.findings)).toEqual(['window-interval-mismatch@s0@w1@i1']);
    expect(r.findings[0]!.seq).toBe(3);

    const overlap = [intervalOf(0, [rec(0, 0, 0, 3), rec(0, 1, 2, 2)])];
    expect(codes(checkIntervals(onChain(overlap), served(overlap), 1, ballots(overlap)).findings)).toEqual([
      'window-range-mismatch@s0@w1@i0',
    ]);
    const gap = [intervalOf(0, [rec(0, 0, 0, 3), rec(0, 1, 4, 2)])];
    const g = checkIntervals(onChain(gap), served(gap), 1, ballots(gap));
    expect(codes(g.findings)).toEqual(['window-range-mismatch@s0@w1@i0']);
    expect(g.findings[0]!.seq).toBe(3);
  });

  it('records out of (shard, window) order', () => {
    const swapped = [intervalOf(0, [rec(1, 0, 0, 2), rec(0, 0, 0, 3)])];
    const r = checkIntervals(onChain(swapped), served(swapped), 2, ballots(swapped));
    expect(codes(r.findings)).toEqual(['interval-mismatch@s0@i0']);
    expect(r.findings[0]!.message).toMatch(/order/);
  });
});

describe('the windows a server lists for a shard', () => {
  const anchored: ChainWindow[] = [{ index: 0, firstSeq: 0, count: 3, root: root(0), anchoredAt: 7 }];
  const listed = (extra: Record<string, unknown>[] = []): Record<string, unknown>[] => [
    { shard: 0, index: 0, firstSeq: 0, count: 3, root: root(0), anchor: { txHash: '0xab' } },
    ...extra,
  ];

  it('agree with the anchored ones; a later window waiting is fine', () => {
    const waiting = { shard: 0, index: 1, firstSeq: 3, count: 1, root: root(1), anchor: null };
    expect(compareListedWindows(0, listed([waiting]), anchored, 1, false)).toEqual([]);
    expect(compareListedWindows(0, listed([waiting]), anchored, 1, true)).toEqual([]);
  });

  it('another root or range, one left out, one said anchored in no interval after the close', () => {
    const other = listed();
    other[0]!.root = root(9);
    other[0]!.count = 4;
    expect(codes(compareListedWindows(0, other, anchored, 1, false))).toEqual([
      'window-range-mismatch@s0@w0',
      'window-root-mismatch@s0@w0',
    ]);
    expect(codes(compareListedWindows(0, [], anchored, 1, false))).toEqual(['window-range-mismatch@s0@w0']);
    const claimed = { shard: 0, index: 1, firstSeq: 3, count: 1, root: root(1), anchor: { txHash: '0xcd' } };
    expect(compareListedWindows(0, listed([claimed]), anchored, 1, false)).toEqual([]); // open: it may be on its way
    expect(codes(compareListedWindows(0, listed([claimed]), anchored, 1, true))).toEqual([
      'window-interval-mismatch@s0@w1',
    ]);
    expect(codes(compareListedWindows(0, [{ ...listed()[0], shard: 1 }], anchored, 1, false))).toContain(
      'window-range-mismatch@s0',
    );
  });
});

describe('saved lists, rows and receipts', () => {
  it('a saved list: the items, one saved page, or pages one after the other', () => {
    const a = { index: 0 };
    const b = { index: 1 };
    expect(listItems([a, b], 'intervals', 'x')).toEqual([a, b]);
    expect(listItems({ intervals: [a, b], next: 2 }, 'intervals', 'x')).toEqual([a, b]);
    expect(listItems([{ intervals: [a] }, { intervals: [b] }], 'intervals', 'x')).toEqual([a, b]);
    expect(listItems([], 'intervals', 'x')).toEqual([]);
    expect(() => listItems({ windows: [] }, 'intervals', 'x')).toThrow(InputError);
  });

  it('a ledger row names its shard, or none; a receipt a shard below 1024', () => {
    const row = (shard: unknown) =>
      JSON.stringify({
        ...(shard === undefined ? {} : { shard }),
        seq: 0,
        ballotHash: '00'.repeat(32),
        ballot: '{}',
        signature: '00'.repeat(64),
        receivedAt: '2026-01-01T00:00:00.000Z',
      });
    expect(parseLedgerRow(row(3))).toMatchObject({ shard: 3, seq: 0 });
    expect(parseLedgerRow(row(undefined))).toMatchObject({ shard: -1 });
    for (const bad of [-1, 1.5, '2', null]) expect(parseLedgerRow(row(bad))).toMatch(/shard/);
    const receipt = {
      version: 1,
      electionId: 'e',
      seq: 0,
      ballotHash: '00'.repeat(32),
      receivedAt: '2026-01-01T00:00:00.000Z',
      signature: '00'.repeat(64),
    };
    expect(receiptProblem(receipt)).toBeNull();
    expect(receiptProblem({ ...receipt, shard: 1023 })).toBeNull();
    expect(receiptProblem({ ...receipt, shard: 1024 })).toMatch(/shard/);
    expect(receiptProblem({ ...receipt, other: 1 })).toMatch(/keys/);
  });
});

describe('per shard and across shards', () => {
  it("a shard's seq tracker names the shard", () => {
    const t = new SeqTracker(2);
    expect(t.observe(0)).toBeNull();
    expect(t.observe(0)).toMatchObject({
      code: 'duplicate-seq',
      shard: 2,
      seq: 0,
      message: 'shard 2: seq 0 appears more than once',
    });
    t.observe(3);
    expect(t.finish(5).map((f) => [f.code, f.shard, f.seq])).toEqual([
      ['seq-gap', 2, 1],
      ['missing-ballot', 2, 4],
    ]);
  });

  it('published results of an open election of several shards, counting another number of ballots: a warning', () => {
    const manifest = makeManifest('shards-results', '00'.repeat(32));
    const recount = new Recount(ballotRules(manifest as never));
    recount.add(0, [0, 3]);
    recount.add(0, [1]); // the same seq in another shard
    const tally = recount.tally();
    const published = { electionId: 'shards-results', tally, totalBallots: 2, asOfSeq: 1 };
    expect(compareResults(published, 'shards-results', recount, false)).toEqual([]);
    const other = { ...published, totalBallots: 3, tally: { ...tally, q1: { oui: 2, non: 1 } } };
    const open = compareResults(other, 'shards-results', recount, false);
    expect(open.map((f) => [f.code, f.severity])).toEqual([['tally-mismatch', 'warning']]);
    const closed = compareResults(other, 'shards-results', recount, true);
    expect(closed.length).toBeGreaterThan(1);
    expect(closed.every((f) => f.code === 'tally-mismatch' && f.severity === 'error')).toBe(true);
  });
});
