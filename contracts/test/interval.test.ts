// Sharded elections on a real anvil chain (docs/protocol.md section 13): anchorInterval with every revert and
// its event, the rule that an election anchors windows or intervals but never both, the close after intervals,
// and verifyIntervalInclusion checked against the server's own RFC 6962 code (ledger/src/protocol/merkle.ts)
// building both levels: the shard windows' ballot trees and the interval tree over their 60-byte records.
import { createHash } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { MerkleTree } from '../../ledger/src/protocol/merkle.js';
import { electionKey } from '../index.js';
import { ZERO32, b32, deployFixture, eventsOf, expectRevert, mined, stopFixture, type Fixture } from './support.js';

const UINT64_MAX = 2n ** 64n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;

let fx: Fixture;

beforeAll(async () => {
  fx = await deployFixture();
});

afterAll(async () => {
  await stopFixture(fx);
});

async function registered(electionId: string): Promise<string> {
  const key = electionKey(electionId);
  await mined(fx.asAnchorer.registerElection(key, b32(`manifest ${electionId}`), b32(`roll ${electionId}`)));
  return key;
}

async function blockTimestamp(blockNumber: number): Promise<bigint> {
  const block = await fx.provider.getBlock(blockNumber);
  if (block === null) throw new Error(`no block ${blockNumber}`);
  return BigInt(block.timestamp);
}

const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
const sha256 = (label: string): Buffer => createHash('sha256').update(label).digest();

describe('anchorInterval', () => {
  it('refuses every account that is not an anchorer', async () => {
    const key = await registered('interval-access');
    for (const [contract, wallet] of [
      [fx.asStranger, fx.stranger],
      [fx.asOwner, fx.owner],
    ] as const) {
      await expectRevert(contract.anchorInterval(key, 0, 1, 1, b32('root')), 'TallyAnchorUnauthorizedAnchorer', [
        wallet.address,
      ]);
    }
    expect(await fx.asStranger.intervalCount(key)).toBe(0n);
  });

  it('refuses intervals of an unregistered election', async () => {
    const key = electionKey('interval-not-registered');
    await expectRevert(fx.asAnchorer.anchorInterval(key, 0, 1, 1, b32('root')), 'TallyAnchorElectionNotRegistered', [
      key,
    ]);
  });

  it('anchors contiguous intervals, emits IntervalAnchored and exposes them', async () => {
    const key = await registered('intervals');
    const intervals = [
      { windowCount: 1n, ballotCount: 1n, root: b32('i0') },
      { windowCount: 16n, ballotCount: 12_345n, root: b32('i1') },
      { windowCount: 256n, ballotCount: 256n, root: b32('i2') },
    ];
    let anchored = 0n;
    for (const [index, interval] of intervals.entries()) {
      const receipt = await mined(
        fx.asAnchorer.anchorInterval(key, index, interval.windowCount, interval.ballotCount, interval.root),
      );
      expect(eventsOf(receipt)).toEqual([
        {
          name: 'IntervalAnchored',
          args: [key, BigInt(index), interval.windowCount, interval.ballotCount, interval.root],
        },
      ]);
      anchored += interval.ballotCount;
      const stored = await fx.asStranger.getInterval(key, index);
      expect(stored.toArray()).toEqual([
        interval.root,
        interval.windowCount,
        interval.ballotCount,
        await blockTimestamp(receipt.blockNumber),
      ]);
      expect(stored.windowCount).toBe(interval.windowCount);
      expect(await fx.asStranger.intervalCount(key)).toBe(BigInt(index + 1));
      expect((await fx.asStranger.getElection(key)).anchoredBallots).toBe(anchored);
    }
    const election = await fx.asStranger.getElection(key);
    expect(election.anchoredBallots).toBe(12_602n);
    // The election anchors intervals: it has no windows, and windowCount says so.
    expect(election.anchoredWindows).toBe(0n);
    expect(await fx.asStranger.windowCount(key)).toBe(0n);
    await expectRevert(fx.asStranger.getWindow(key, 0), 'TallyAnchorUnknownWindow', [key, 0n]);
    expect(election.closed).toBe(false);
  });

  it('never overwrites an anchored interval', async () => {
    const key = await registered('interval-no-overwrite');
    await mined(fx.asAnchorer.anchorInterval(key, 0, 2, 5, b32('first')));
    await mined(fx.asAnchorer.anchorInterval(key, 1, 1, 1, b32('second')));
    const before = [
      (await fx.asStranger.getInterval(key, 0)).toArray(),
      (await fx.asStranger.getInterval(key, 1)).toArray(),
    ];
    // Same interval again, identical or different: refused, naming the root on chain.
    await expectRevert(fx.asAnchorer.anchorInterval(key, 0, 2, 5, b32('first')), 'TallyAnchorIntervalAlreadyAnchored', [
      key,
      0n,
      b32('first'),
    ]);
    await expectRevert(
      fx.asAnchorer.anchorInterval(key, 0, 3, 9, b32('forged')),
      'TallyAnchorIntervalAlreadyAnchored',
      [key, 0n, b32('first')],
    );
    await expectRevert(
      fx.asAnchorer.anchorInterval(key, 1, 1, 1, b32('forged')),
      'TallyAnchorIntervalAlreadyAnchored',
      [key, 1n, b32('second')],
    );
    expect([
      (await fx.asStranger.getInterval(key, 0)).toArray(),
      (await fx.asStranger.getInterval(key, 1)).toArray(),
    ]).toEqual(before);
    expect(await fx.asStranger.intervalCount(key)).toBe(2n);
    expect((await fx.asStranger.getElection(key)).anchoredBallots).toBe(6n);
  });

  it('requires intervalIndex == intervalCount', async () => {
    const key = await registered('interval-index-gap');
    await expectRevert(fx.asAnchorer.anchorInterval(key, 1, 1, 1, b32('r')), 'TallyAnchorIntervalIndexGap', [
      key,
      0n,
      1n,
    ]);
    await mined(fx.asAnchorer.anchorInterval(key, 0, 1, 1, b32('r')));
    await expectRevert(fx.asAnchorer.anchorInterval(key, 2, 1, 1, b32('r')), 'TallyAnchorIntervalIndexGap', [
      key,
      1n,
      2n,
    ]);
    await expectRevert(fx.asAnchorer.anchorInterval(key, UINT64_MAX, 1, 1, b32('r')), 'TallyAnchorIntervalIndexGap', [
      key,
      1n,
      UINT64_MAX,
    ]);
    expect(await fx.asStranger.intervalCount(key)).toBe(1n);
  });

  it('refuses an interval without windows, or with fewer ballots than windows', async () => {
    const key = await registered('interval-empty');
    const refused: [windowCount: bigint, ballotCount: bigint][] = [
      [0n, 0n],
      [0n, 5n],
      [3n, 2n],
      [3n, 0n],
      [UINT64_MAX, UINT64_MAX - 1n],
    ];
    for (const [windowCount, ballotCount] of refused) {
      await expectRevert(
        fx.asAnchorer.anchorInterval(key, 0, windowCount, ballotCount, b32('r')),
        'TallyAnchorEmptyInterval',
        [key, 0n, windowCount, ballotCount],
      );
    }
    expect(await fx.asStranger.intervalCount(key)).toBe(0n);
    // One ballot in each window is the least an interval holds.
    await mined(fx.asAnchorer.anchorInterval(key, 0, 3, 3, b32('r')));
    await expectRevert(fx.asAnchorer.anchorInterval(key, 1, 0, 1, b32('r')), 'TallyAnchorEmptyInterval', [
      key,
      1n,
      0n,
      1n,
    ]);
  });

  it('refuses a zero root', async () => {
    const key = await registered('interval-zero-root');
    await expectRevert(fx.asAnchorer.anchorInterval(key, 0, 1, 1, ZERO32), 'TallyAnchorZeroIntervalRoot', [key, 0n]);
    await mined(fx.asAnchorer.anchorInterval(key, 0, 1, 1, b32('r')));
    await expectRevert(fx.asAnchorer.anchorInterval(key, 1, 4, 40, ZERO32), 'TallyAnchorZeroIntervalRoot', [key, 1n]);
    expect(await fx.asStranger.intervalCount(key)).toBe(1n);
  });

  it('refuses a ballot total past uint64', async () => {
    const key = await registered('interval-overflow');
    await mined(fx.asAnchorer.anchorInterval(key, 0, 1, UINT64_MAX, b32('huge')));
    expect((await fx.asStranger.getElection(key)).anchoredBallots).toBe(UINT64_MAX);
    await expectRevert(fx.asAnchorer.anchorInterval(key, 1, 1, 1, b32('r')), 'TallyAnchorBallotCountOverflow', [
      key,
      UINT64_MAX,
      1n,
    ]);
    const other = await registered('interval-overflow-2');
    await mined(fx.asAnchorer.anchorInterval(other, 0, 2, 10, b32('r')));
    await expectRevert(
      fx.asAnchorer.anchorInterval(other, 1, 1, UINT64_MAX - 9n, b32('r')),
      'TallyAnchorBallotCountOverflow',
      [other, 10n, UINT64_MAX - 9n],
    );
    await mined(fx.asAnchorer.anchorInterval(other, 1, 1, UINT64_MAX - 10n, b32('r'))); // exactly 2^64 - 1 in all
    expect((await fx.asStranger.getElection(other)).anchoredBallots).toBe(UINT64_MAX);
  });

  it('reports an interval that is not anchored', async () => {
    const key = await registered('interval-unknown');
    await expectRevert(fx.asStranger.getInterval(key, 0), 'TallyAnchorUnknownInterval', [key, 0n]);
    await mined(fx.asAnchorer.anchorInterval(key, 0, 1, 1, b32('r')));
    await expectRevert(fx.asStranger.getInterval(key, 1), 'TallyAnchorUnknownInterval', [key, 1n]);
    await expectRevert(fx.asStranger.getInterval(key, UINT64_MAX), 'TallyAnchorUnknownInterval', [key, UINT64_MAX]);
    const unknown = electionKey('interval-never-registered');
    await expectRevert(fx.asStranger.getInterval(unknown, 0), 'TallyAnchorUnknownInterval', [unknown, 0n]);
    expect(await fx.asStranger.intervalCount(unknown)).toBe(0n);
  });

  it('keeps elections apart', async () => {
    const a = await registered('interval-apart-a');
    const b = await registered('interval-apart-b');
    await mined(fx.asAnchorer.anchorInterval(a, 0, 2, 4, b32('a0')));
    await mined(fx.asAnchorer.anchorInterval(b, 0, 1, 7, b32('b0')));
    await mined(fx.asAnchorer.anchorInterval(a, 1, 1, 1, b32('a1')));
    expect(await fx.asStranger.intervalCount(a)).toBe(2n);
    expect(await fx.asStranger.intervalCount(b)).toBe(1n);
    expect((await fx.asStranger.getInterval(b, 0)).root).toBe(b32('b0'));
    expect((await fx.asStranger.getElection(a)).anchoredBallots).toBe(5n);
    expect((await fx.asStranger.getElection(b)).anchoredBallots).toBe(7n);
    await expectRevert(fx.asStranger.getInterval(b, 1), 'TallyAnchorUnknownInterval', [b, 1n]);
  });
});

describe('one anchoring mode per election', () => {
  it('refuses anchorInterval once a window is anchored', async () => {
    const key = await registered('mode-windows');
    await mined(fx.asAnchorer.anchorWindow(key, 0, 0, 3, b32('w0')));
    for (const index of [0n, 1n]) {
      await expectRevert(
        fx.asAnchorer.anchorInterval(key, index, 1, 1, b32('r')),
        'TallyAnchorElectionAnchorsWindows',
        [key],
      );
    }
    // The election goes on anchoring windows.
    await mined(fx.asAnchorer.anchorWindow(key, 1, 3, 2, b32('w1')));
    expect(await fx.asStranger.windowCount(key)).toBe(2n);
    expect(await fx.asStranger.intervalCount(key)).toBe(0n);
    await expectRevert(fx.asStranger.getInterval(key, 0), 'TallyAnchorUnknownInterval', [key, 0n]);
    const election = await fx.asStranger.getElection(key);
    expect([election.anchoredBallots, election.anchoredWindows]).toEqual([5n, 2n]);
  });

  it('refuses anchorWindow once an interval is anchored, whatever the window index', async () => {
    const key = await registered('mode-intervals');
    await mined(fx.asAnchorer.anchorInterval(key, 0, 2, 3, b32('i0')));
    // windowIndex 0 would be "already anchored" and 1 "the next one" if the counter were read as windows.
    for (const [windowIndex, firstSeq] of [
      [0n, 0n],
      [1n, 3n],
      [2n, 3n],
    ] as const) {
      await expectRevert(
        fx.asAnchorer.anchorWindow(key, windowIndex, firstSeq, 1, b32('w')),
        'TallyAnchorElectionAnchorsIntervals',
        [key],
      );
    }
    await mined(fx.asAnchorer.anchorInterval(key, 1, 1, 1, b32('i1')));
    expect(await fx.asStranger.intervalCount(key)).toBe(2n);
    expect(await fx.asStranger.windowCount(key)).toBe(0n);
    await expectRevert(fx.asStranger.getWindow(key, 0), 'TallyAnchorUnknownWindow', [key, 0n]);
  });

  it('leaves the choice open after a refused first call', async () => {
    const toWindows = await registered('mode-open-windows');
    await expectRevert(fx.asAnchorer.anchorInterval(toWindows, 0, 1, 1, ZERO32), 'TallyAnchorZeroIntervalRoot', [
      toWindows,
      0n,
    ]);
    await mined(fx.asAnchorer.anchorWindow(toWindows, 0, 0, 1, b32('w0')));
    expect(await fx.asStranger.windowCount(toWindows)).toBe(1n);

    const toIntervals = await registered('mode-open-intervals');
    await expectRevert(fx.asAnchorer.anchorWindow(toIntervals, 0, 0, 0, b32('w0')), 'TallyAnchorEmptyWindow', [
      toIntervals,
      0n,
    ]);
    await mined(fx.asAnchorer.anchorInterval(toIntervals, 0, 1, 1, b32('i0')));
    expect(await fx.asStranger.intervalCount(toIntervals)).toBe(1n);
  });
});

describe('closeElection after intervals', () => {
  it('requires totalBallots to be the sum of the intervals’ ballotCount, then accepts nothing more', async () => {
    const key = await registered('interval-closing');
    const intervals = [
      { windowCount: 3n, ballotCount: 7n },
      { windowCount: 1n, ballotCount: 1n },
      { windowCount: 16n, ballotCount: 300n },
      { windowCount: 5n, ballotCount: 42n },
    ];
    for (const [index, { windowCount, ballotCount }] of intervals.entries()) {
      await mined(fx.asAnchorer.anchorInterval(key, index, windowCount, ballotCount, b32(`i${index}`)));
    }
    const ballotCounts = intervals.map((i) => i.ballotCount);
    const sum = ballotCounts.reduce((a, b) => a + b, 0n);
    for (const wrong of [sum - 1n, sum + 1n, 0n, BigInt(ballotCounts.length)]) {
      await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), wrong), 'TallyAnchorTotalBallotsMismatch', [
        key,
        sum,
        wrong,
      ]);
    }
    const receipt = await mined(fx.asAnchorer.closeElection(key, b32('result'), sum));
    expect(eventsOf(receipt)).toEqual([{ name: 'ElectionClosed', args: [key, b32('result'), sum] }]);

    const election = await fx.asStranger.getElection(key);
    expect(election.toArray()).toEqual([
      b32('manifest interval-closing'),
      b32('roll interval-closing'),
      election.registeredAt,
      true,
      b32('result'),
      sum,
      sum,
      0n,
    ]);
    await expectRevert(fx.asAnchorer.anchorInterval(key, 4, 1, 1, b32('late')), 'TallyAnchorElectionAlreadyClosed', [
      key,
    ]);
    await expectRevert(fx.asAnchorer.anchorWindow(key, 0, 0, 1, b32('late')), 'TallyAnchorElectionAlreadyClosed', [
      key,
    ]);
    await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), sum), 'TallyAnchorElectionAlreadyClosed', [key]);
    expect(await fx.asStranger.intervalCount(key)).toBe(4n);
    expect((await fx.asStranger.getInterval(key, 3)).ballotCount).toBe(42n);
  });

  it('refuses anchorInterval on an election closed without ballots or with windows', async () => {
    const empty = await registered('interval-closed-empty');
    await mined(fx.asAnchorer.closeElection(empty, b32('result'), 0));
    await expectRevert(fx.asAnchorer.anchorInterval(empty, 0, 1, 1, b32('r')), 'TallyAnchorElectionAlreadyClosed', [
      empty,
    ]);
    const windows = await registered('interval-closed-windows');
    await mined(fx.asAnchorer.anchorWindow(windows, 0, 0, 2, b32('w0')));
    await mined(fx.asAnchorer.closeElection(windows, b32('result'), 2));
    await expectRevert(fx.asAnchorer.anchorInterval(windows, 0, 1, 1, b32('r')), 'TallyAnchorElectionAlreadyClosed', [
      windows,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// verifyIntervalInclusion against an off-chain two-level computation
// ---------------------------------------------------------------------------------------------------------------

/** shardWindowRecord = uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) || windowRoot. */
function shardWindowRecord(shard: bigint, windowIndex: bigint, firstSeq: bigint, count: bigint, root: Buffer): Buffer {
  const record = Buffer.alloc(60);
  record.writeUInt32BE(Number(shard), 0);
  record.writeBigUInt64BE(windowIndex, 4);
  record.writeBigUInt64BE(firstSeq, 12);
  record.writeBigUInt64BE(count, 20);
  root.copy(record, 28);
  return record;
}

interface ShardWindow {
  shard: bigint;
  windowIndex: bigint;
  firstSeq: bigint;
  ballots: Buffer[];
  tree: MerkleTree;
}

interface AnchoredInterval {
  intervalIndex: number;
  windows: ShardWindow[];
  tree: MerkleTree;
}

/** The verifyIntervalInclusion arguments for ballot `leafIndex` of record `recordIndex` of `interval`. */
function proofArgs(interval: AnchoredInterval, recordIndex: number, leafIndex: number) {
  const w = interval.windows[recordIndex]!;
  return {
    intervalIndex: BigInt(interval.intervalIndex),
    recordIndex: BigInt(recordIndex),
    shard: w.shard,
    windowIndex: w.windowIndex,
    firstSeq: w.firstSeq,
    count: BigInt(w.ballots.length),
    windowRoot: hex(w.tree.root()),
    intervalProof: interval.tree.auditPath(recordIndex).map(hex),
    leafIndex: BigInt(leafIndex),
    ballotHash: hex(w.ballots[leafIndex]!),
    windowProof: w.tree.auditPath(leafIndex).map(hex),
  };
}
type ProofArgs = ReturnType<typeof proofArgs>;

/** Deterministic xorshift32, so a failure names a shape that the next run rebuilds. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

describe('verifyIntervalInclusion', () => {
  const key = electionKey('two-level');
  const SHARDS = 1024;
  const intervals: AnchoredInterval[] = [];
  let totalBallots = 0n;

  function verify(key_: string, a: ProofArgs): Promise<boolean> {
    return fx.asStranger.verifyIntervalInclusion(
      key_,
      a.intervalIndex,
      a.recordIndex,
      a.shard,
      a.windowIndex,
      a.firstSeq,
      a.count,
      a.windowRoot,
      a.intervalProof,
      a.leafIndex,
      a.ballotHash,
      a.windowProof,
    );
  }

  beforeAll(async () => {
    // Interval i has i + 1 records (1..40): shard windows of 1..70 ballots, ordered by (shard, windowIndex),
    // each shard's windows and seqs continuing from the previous interval, as the anchor worker seals them.
    const random = prng(17);
    const shardState = new Map<number, { windowIndex: bigint; firstSeq: bigint }>();
    await mined(fx.asAnchorer.registerElection(key, b32('manifest two-level'), b32('roll two-level')));
    for (let intervalIndex = 0; intervalIndex < 40; intervalIndex++) {
      const shardsUsed: number[] = [];
      while (shardsUsed.length < intervalIndex + 1) {
        // Mostly distinct shards; now and then a second window of a shard already in this interval.
        const shard =
          shardsUsed.length > 0 && random(5) === 0 ? shardsUsed[random(shardsUsed.length)]! : random(SHARDS);
        shardsUsed.push(shard);
      }
      shardsUsed.sort((a, b) => a - b);
      const windows: ShardWindow[] = shardsUsed.map((shard, k) => {
        const state = shardState.get(shard) ?? { windowIndex: 0n, firstSeq: 0n };
        const count = 1 + random(70);
        const ballots = Array.from({ length: count }, (_, j) => sha256(`ballot ${intervalIndex} ${k} ${j}`));
        const w = { shard: BigInt(shard), ...state, ballots, tree: MerkleTree.fromLeaves(ballots) };
        shardState.set(shard, { windowIndex: state.windowIndex + 1n, firstSeq: state.firstSeq + BigInt(count) });
        return w;
      });
      const records = windows.map((w) =>
        shardWindowRecord(w.shard, w.windowIndex, w.firstSeq, BigInt(w.ballots.length), w.tree.root()),
      );
      const tree = MerkleTree.fromLeaves(records);
      const ballotCount = windows.reduce((s, w) => s + BigInt(w.ballots.length), 0n);
      await mined(fx.asAnchorer.anchorInterval(key, intervalIndex, windows.length, ballotCount, hex(tree.root())));
      totalBallots += ballotCount;
      intervals.push({ intervalIndex, windows, tree });
    }
  });

  it('anchored 40 intervals of 1..40 records over windows of 1..70 ballots', async () => {
    expect(intervals.map((i) => i.windows.length)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const counts = intervals.flatMap((i) => i.windows.map((w) => w.ballots.length));
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBe(70);
    // Some shard has a window in several intervals, and some interval has two windows of one shard.
    expect(intervals.some((i) => i.windows.some((w) => w.windowIndex > 0n))).toBe(true);
    expect(intervals.some((i) => new Set(i.windows.map((w) => w.shard)).size < i.windows.length)).toBe(true);
    expect(await fx.asStranger.intervalCount(key)).toBe(40n);
    expect((await fx.asStranger.getElection(key)).anchoredBallots).toBe(totalBallots);
  });

  // Thousands of eth_calls each: a timeout of their own, as on a busy machine they can take a while.
  it('accepts the first, the last and two more ballots of every record of every interval', {
    timeout: 180_000,
  }, async () => {
    const random = prng(99);
    const checks = intervals.flatMap((interval) =>
      interval.windows.flatMap((w, recordIndex) => {
        const n = w.ballots.length;
        const leaves = [...new Set([0, n - 1, random(n), random(n)])];
        return leaves.map(async (leafIndex) => ({
          at: `interval ${interval.intervalIndex} record ${recordIndex} leaf ${leafIndex} of ${n}`,
          ok: await verify(key, proofArgs(interval, recordIndex, leafIndex)),
        }));
      }),
    );
    const results = await Promise.all(checks);
    expect(results.length).toBeGreaterThan(2_000);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('refuses a wrong record field, ballot, index, proof or length, and an unknown interval', {
    timeout: 180_000,
  }, async () => {
    const random = prng(7);
    /** The sibling index (i ^ 1) when it is in a tree of `size` leaves, else the one before. */
    const neighbour = (i: number, size: number): number => ((i ^ 1) < size ? i ^ 1 : i - 1);
    const flip = (h: string): string => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}`;
    const unknownElection = electionKey('two-level-unknown');
    const checks: Promise<{ at: string; expected: boolean; got: boolean }>[] = [];
    const check = (at: string, k: string, args: ProofArgs, expected: boolean): void => {
      checks.push(verify(k, args).then((got) => ({ at, expected, got })));
    };
    // Every record of a spread of interval sizes (perfect, ragged, largest), one ballot each.
    for (const size of [1, 2, 3, 4, 5, 8, 9, 16, 17, 33, 40]) {
      const interval = intervals[size - 1]!;
      for (let recordIndex = 0; recordIndex < size; recordIndex++) {
        const w = interval.windows[recordIndex]!;
        const n = w.ballots.length;
        const leafIndex = random(n);
        const good = proofArgs(interval, recordIndex, leafIndex);
        const otherRecord = size > 1 ? proofArgs(interval, (recordIndex + 1) % size, 0) : undefined;
        const variants: [string, ProofArgs, string?][] = [
          ['shard', { ...good, shard: good.shard ^ 1n }],
          ['shard at uint32 max', { ...good, shard: UINT32_MAX }],
          ['windowIndex', { ...good, windowIndex: good.windowIndex + 1n }],
          ['firstSeq', { ...good, firstSeq: good.firstSeq + 1n }],
          ['count + 1', { ...good, count: good.count + 1n }],
          ['windowRoot', { ...good, windowRoot: flip(good.windowRoot) }],
          ['ballotHash', { ...good, ballotHash: flip(good.ballotHash) }],
          ['leafIndex past the window', { ...good, leafIndex: good.count }],
          ['recordIndex past the interval', { ...good, recordIndex: BigInt(size) }],
          ['recordIndex far', { ...good, recordIndex: UINT64_MAX }],
          ['windowProof + 1', { ...good, windowProof: [...good.windowProof, good.windowRoot] }],
          ['intervalProof + 1', { ...good, intervalProof: [...good.intervalProof, good.windowRoot] }],
          ['unknown interval', { ...good, intervalIndex: 40n }],
          ['unknown interval far', { ...good, intervalIndex: UINT64_MAX }],
          ['next interval', { ...good, intervalIndex: BigInt((interval.intervalIndex + 1) % 40) }],
          ['unknown election', good, unknownElection],
        ];
        if (n > 1) {
          variants.push(
            ['another ballot of the window', { ...good, ballotHash: hex(w.ballots[(leafIndex + 1) % n]!) }],
            [
              'count - 1',
              { ...good, count: good.count - 1n, leafIndex: 0n, windowProof: w.tree.auditPath(0).map(hex) },
            ],
            ['leafIndex neighbour', { ...good, leafIndex: BigInt(neighbour(leafIndex, n)) }],
            ['windowProof - 1', { ...good, windowProof: good.windowProof.slice(0, -1) }],
            [
              'windowProof sibling',
              { ...good, windowProof: [flip(good.windowProof[0]!), ...good.windowProof.slice(1)] },
            ],
          );
        }
        if (size > 1) {
          variants.push(
            ['recordIndex neighbour', { ...good, recordIndex: BigInt(neighbour(recordIndex, size)) }],
            ['intervalProof - 1', { ...good, intervalProof: good.intervalProof.slice(0, -1) }],
            [
              'intervalProof sibling',
              { ...good, intervalProof: [flip(good.intervalProof[0]!), ...good.intervalProof.slice(1)] },
            ],
            // A valid path of another record of the same interval, with this record's fields.
            ['another record’s intervalProof', { ...good, intervalProof: otherRecord!.intervalProof }],
          );
        }
        const at = `interval ${size - 1} record ${recordIndex} leaf ${leafIndex} of ${n}`;
        check(`${at}: valid`, key, good, true);
        for (const [what, args, k] of variants) check(`${at}: ${what}`, k ?? key, args, false);
      }
    }
    const results = await Promise.all(checks);
    expect(results.length).toBeGreaterThan(3_000);
    expect(results.filter((r) => r.got !== r.expected).map((r) => r.at)).toEqual([]);
  });

  it('encodes every record field at its full width (uint32 shard, uint64 windowIndex, firstSeq, count)', async () => {
    const edgeKey = await registered('two-level-widths');
    const ballots = Array.from({ length: 5 }, (_, j) => sha256(`edge ballot ${j}`));
    const windowTree = MerkleTree.fromLeaves(ballots);
    const windows: ShardWindow[] = [
      { shard: 0n, windowIndex: 0n, firstSeq: 0n, ballots, tree: windowTree },
      { shard: 0x01020304n, windowIndex: 2n ** 40n + 5n, firstSeq: 2n ** 56n + 7n, ballots, tree: windowTree },
      { shard: UINT32_MAX, windowIndex: UINT64_MAX, firstSeq: UINT64_MAX - 5n, ballots, tree: windowTree },
    ];
    const records = windows.map((w) => shardWindowRecord(w.shard, w.windowIndex, w.firstSeq, 5n, w.tree.root()));
    const tree = MerkleTree.fromLeaves(records);
    await mined(fx.asAnchorer.anchorInterval(edgeKey, 0, 3, 15, hex(tree.root())));
    const interval: AnchoredInterval = { intervalIndex: 0, windows, tree };
    for (let recordIndex = 0; recordIndex < 3; recordIndex++) {
      for (let leafIndex = 0; leafIndex < 5; leafIndex++) {
        const args = proofArgs(interval, recordIndex, leafIndex);
        expect(await verify(edgeKey, args), `record ${recordIndex} leaf ${leafIndex}`).toBe(true);
        // The high bytes count: the same values cut to 32 bits are another record.
        const cut = { ...args, windowIndex: args.windowIndex & 0xffffffffn, firstSeq: args.firstSeq & 0xffffffffn };
        if (cut.windowIndex !== args.windowIndex || cut.firstSeq !== args.firstSeq) {
          expect(await verify(edgeKey, cut)).toBe(false);
        }
      }
    }
  });

  it('closes with totalBallots equal to the sum of the intervals’ ballotCount', async () => {
    const sum = intervals.reduce((s, i) => s + i.windows.reduce((t, w) => t + BigInt(w.ballots.length), 0n), 0n);
    expect(sum).toBe(totalBallots);
    await expectRevert(
      fx.asAnchorer.closeElection(key, b32('two-level result'), sum - 1n),
      'TallyAnchorTotalBallotsMismatch',
      [key, sum, sum - 1n],
    );
    await mined(fx.asAnchorer.closeElection(key, b32('two-level result'), sum));
    expect((await fx.asStranger.getElection(key)).totalBallots).toBe(sum);
    // Proofs stay checkable after the close.
    expect(await verify(key, proofArgs(intervals[39]!, 39, 0))).toBe(true);
  });
});
