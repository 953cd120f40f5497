// intervals.ts imports i18n.ts's keys as a type, which brings the page's DOM code into this Node program: it
// iterates NodeLists, so the DOM's iterable typings are needed here too.
/// <reference lib="dom.iterable" />
// The results page's anchor intervals (web/src/results/intervals.ts, web/src/api.ts getIntervals) on an election
// split into shards (docs/protocol.md 13.4), under Node against real parts: the API over HTTP on a real database
// (api/test/helper.ts), the ledger's own sealing and intervals, and TallyAnchor on anvil with intervals anchored
// by anchorInterval. Each interval's root is recomputed from the records the API lists, with the page's own
// RFC 6962 code, and compared, with its counts, with getInterval read from the chain: honest intervals verify,
// altered records fail (whether or not the server's root was made to match them), an interval the chain does
// not hold yet is pending, and one the server calls anchored that the chain does not hold fails.
import { readFileSync } from 'node:fs';
import { Wallet, type ContractTransactionResponse } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type TestApi } from '../../api/test/helper.js';
import { deployTallyAnchor, electionKey, tallyAnchor, type TallyAnchorContract } from '../../contracts/index.js';
import { formInterval, recordIntervalAnchor, sealWindow, type AnchorInterval } from '../../ledger/src/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import { ballotFor, selectionsFor, type Voter } from '../../test/support/fixtures.js';
import { getIntervals, type IntervalInfo } from '../src/api.js';
import { ChainReader } from '../src/chain.js';
import { bytesToHex, hexToBytes } from '../src/protocol.js';
import {
  checkIntervals,
  judgeInterval,
  merkleTreeHash,
  recomputeInterval,
  type IntervalCheck,
} from '../src/results/intervals.js';

const SHARDED = 'web-results-intervals';
const SHARDS = 4;
/** Ballots cast before each interval is formed: intervals 0 and 1 get anchored, interval 2 is left waiting. */
const BATCHES = [6, 4, 3];

let chain: AnvilNode;
let api: TestApi;
let voters: Voter[];
let chainId: number;
let contract: TallyAnchorContract;
let otherContract: TallyAnchorContract;
/** Readers of the two deployments: the election's, and one where interval 0 has another root. */
let reader: ChainReader;
let otherReader: ChainReader;
/** The intervals as the ledger formed them. */
const formed: AnchorInterval[] = [];
/** The intervals as GET …/intervals lists them, read by the page's getIntervals. */
let listed: IntervalInfo[];
const realFetch = globalThis.fetch;

async function mined(sent: Promise<ContractTransactionResponse>): Promise<{ txHash: string; blockNumber: number }> {
  const tx = await sent;
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`transaction ${tx.hash} failed`);
  return { txHash: tx.hash, blockNumber: receipt.blockNumber };
}

async function register(on: TallyAnchorContract): Promise<void> {
  const e = (await api.request('GET', `/api/v1/elections/${SHARDED}`)).body;
  await mined(on.registerElection(electionKey(SHARDED), `0x${e.manifestHash}`, `0x${e.rollRoot}`));
}

function anchorOn(on: TallyAnchorContract, i: AnchorInterval, root = i.root) {
  return mined(on.anchorInterval(electionKey(SHARDED), i.index, i.windowCount, i.ballotCount, `0x${root}`));
}

/** The interval with one bit of its first record's window root flipped. */
function withRecordRootFlipped(i: IntervalInfo): IntervalInfo {
  const altered = structuredClone(i);
  const root = hexToBytes(altered.windows[0]!.root);
  root[0] = root[0]! ^ 0x80;
  altered.windows[0]!.root = bytesToHex(root);
  return altered;
}

/** The interval's root and counts made to match its (altered) records, as a consistent lying server would. */
function madeConsistent(i: IntervalInfo): IntervalInfo {
  const own = recomputeInterval(i.windows, SHARDS);
  return { ...i, root: own.root, windowCount: own.windowCount, ballotCount: own.ballotCount };
}

const check = (i: IntervalInfo, on = reader): Promise<IntervalCheck> =>
  checkIntervals([i], { electionId: SHARDED, shards: SHARDS, reader: on }).then((c) => c[0]!);

beforeAll(async () => {
  chain = await startAnvil();
  const anchorer = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  const deployment = await deployTallyAnchor(anchorer);
  chainId = deployment.chainId;
  contract = tallyAnchor(deployment.address, anchorer);
  otherContract = tallyAnchor((await deployTallyAnchor(anchorer)).address, anchorer);
  api = await build({ chain: { chainId, contract: deployment.address } });
  // The page calls its own origin ('/api/v1/…'): here that origin is the test API's, over real HTTP.
  globalThis.fetch = (input, init) =>
    realFetch(typeof input === 'string' && input.startsWith('/') ? `${api.url}${input}` : input, init);

  const total = BATCHES.reduce((a, b) => a + b, 0);
  ({ voters } = await api.election(SHARDED, total, { shards: SHARDS }));
  let next = 0;
  for (const size of BATCHES) {
    for (const end = next + size; next < end; next++) {
      const r = await api.request('POST', `/api/v1/elections/${SHARDED}/ballots`, {
        json: ballotFor(voters[next]!, SHARDED, selectionsFor(next)),
      });
      expect(r.status).toBe(201);
    }
    for (let shard = 0; shard < SHARDS; shard++) await sealWindow(api.db.app, SHARDED, { shard });
    formed.push((await formInterval(api.db.app, SHARDED))!);
  }

  await register(contract);
  for (const i of formed.slice(0, 2))
    await recordIntervalAnchor(api.db.app, SHARDED, i.index, await anchorOn(contract, i));
  // The other deployment: interval 0 with the same counts and one bit of its root flipped; nothing else.
  await register(otherContract);
  const wrongRoot = hexToBytes(formed[0]!.root);
  wrongRoot[31] = wrongRoot[31]! ^ 1;
  await anchorOn(otherContract, formed[0]!, bytesToHex(wrongRoot));

  reader = await ChainReader.connect(chain.rpcUrl, await contract.getAddress(), chainId);
  otherReader = await ChainReader.connect(chain.rpcUrl, await otherContract.getAddress(), chainId);
  listed = await getIntervals(SHARDED);
});

afterAll(async () => {
  globalThis.fetch = realFetch;
  reader?.destroy();
  otherReader?.destroy();
  await api?.close();
  await chain?.stop();
});

describe('the page’s interval root', () => {
  it('is RFC 6962’s MTH for every tree size of docs/test-vectors/rfc6962-merkle.json', () => {
    const v = JSON.parse(readFileSync(new URL('../../docs/test-vectors/rfc6962-merkle.json', import.meta.url), 'utf8'));
    const leaves = (v.leaves as string[]).map(hexToBytes);
    expect(v.trees.length).toBeGreaterThan(2);
    for (const tree of v.trees) expect(bytesToHex(merkleTreeHash(leaves.slice(0, tree.size)))).toBe(tree.root);
  });

  it('is each interval root of docs/test-vectors/shards.json, from its records', () => {
    const v = JSON.parse(readFileSync(new URL('../../docs/test-vectors/shards.json', import.meta.url), 'utf8'));
    const { intervals, manifest } = v.election;
    expect(intervals.length).toBeGreaterThan(0);
    for (const i of intervals)
      expect(recomputeInterval(i.records, manifest.shards)).toEqual({
        root: i.root,
        windowCount: i.windowCount,
        ballotCount: i.ballotCount,
      });
  });
});

describe('getIntervals', () => {
  it('lists every interval the ledger formed, with its records, whatever the page size', async () => {
    expect(listed.map((i) => [i.index, i.root, i.windowCount, i.ballotCount, i.windows.length])).toEqual(
      formed.map((i) => [i.index, i.root, i.windowCount, i.ballotCount, i.windowCount]),
    );
    expect(listed.map((i) => i.anchor !== null)).toEqual(formed.map((_, n) => n < 2));
    // One interval a page: the pages are followed to the end.
    expect(await getIntervals(SHARDED, { pageSize: 1 })).toEqual(listed);
  });
});

describe('checkIntervals on a sharded election', () => {
  it('an interval holds several shards’ windows, and the intervals every ballot', () => {
    expect(Math.max(...formed.map((i) => new Set(listed[i.index]!.windows.map((w) => w.shard)).size))).toBeGreaterThan(
      1,
    );
    expect(formed.reduce((n, i) => n + i.ballotCount, 0)).toBe(voters.length);
  });

  it('honest intervals verify against the chain; the one not anchored yet is pending', async () => {
    const checks = await checkIntervals(listed, { electionId: SHARDED, shards: SHARDS, reader });
    expect(checks.map((c) => c.state)).toEqual(['verified', 'verified', 'pending']);
    for (const [n, c] of checks.slice(0, 2).entries()) {
      expect(c).toMatchObject({
        state: 'verified',
        chain: {
          index: n,
          root: formed[n]!.root,
          windowCount: formed[n]!.windowCount,
          ballotCount: formed[n]!.ballotCount,
        },
      });
    }
  });

  it('a record altered in the API answer fails: against the server’s root, then against the chain’s', async () => {
    const altered = withRecordRootFlipped(listed[0]!);
    expect(await check(altered)).toMatchObject({ state: 'failed', reason: 'results.interval.fail.server' });
    // The server's root and counts made to match the altered records: the chain's root still tells.
    const consistent = madeConsistent(altered);
    expect(consistent.root).not.toBe(listed[0]!.root);
    expect(await check(consistent)).toEqual({
      state: 'failed',
      reason: 'results.interval.fail.root',
      params: { index: 0, root: formed[0]!.root },
    });
  });

  it('a record’s ballot count altered fails at the chain’s counts, before its root', async () => {
    const altered = structuredClone(listed[1]!);
    altered.windows[0]!.count += 1;
    expect(await check(altered)).toMatchObject({ state: 'failed', reason: 'results.interval.fail.server' });
    expect(await check(madeConsistent(altered))).toEqual({
      state: 'failed',
      reason: 'results.interval.fail.counts',
      params: {
        index: 1,
        windows: formed[1]!.windowCount,
        ballots: formed[1]!.ballotCount,
        ownWindows: formed[1]!.windowCount,
        ownBallots: formed[1]!.ballotCount + 1,
      },
    });
  });

  it('a record dropped, records out of order or of no shard fail', async () => {
    const several = listed.find((i) => i.windows.length > 1 && i.anchor)!;
    const dropped = madeConsistent({ ...several, windows: several.windows.slice(1) });
    expect(await check(dropped)).toMatchObject({ state: 'failed', reason: 'results.interval.fail.counts' });

    const swapped = { ...several, windows: [...several.windows].reverse() };
    expect(await check(swapped)).toMatchObject({ state: 'failed', reason: 'results.interval.fail.records' });

    const outside = structuredClone(several);
    outside.windows.at(-1)!.shard = SHARDS;
    expect(await check(outside)).toMatchObject({ state: 'failed', reason: 'results.interval.fail.records' });

    expect(await check({ ...several, windows: [] })).toMatchObject({
      state: 'failed',
      reason: 'results.interval.fail.records',
    });
  });

  it('an interval not on chain is pending; the server calling it anchored does not make it so', async () => {
    const waiting = listed[2]!;
    expect(waiting.anchor).toBeNull();
    expect(await check(waiting)).toEqual({ state: 'pending' });
    const claimed = { ...waiting, anchor: { ...listed[0]!.anchor! } };
    expect(await check(claimed)).toEqual({
      state: 'failed',
      reason: 'results.interval.fail.missing',
      params: { index: 2 },
    });
  });

  it('a contract holding another root fails it, and an interval it lacks that the server calls anchored', async () => {
    const checks = await checkIntervals(listed, { electionId: SHARDED, shards: SHARDS, reader: otherReader });
    expect(checks).toEqual([
      { state: 'failed', reason: 'results.interval.fail.root', params: { index: 0, root: expect.any(String) } },
      { state: 'failed', reason: 'results.interval.fail.missing', params: { index: 1 } },
      { state: 'pending' },
    ]);
    expect((checks[0] as Extract<IntervalCheck, { state: 'failed' }>).params.root).not.toBe(formed[0]!.root);
  });

  it('nothing read from the chain, or an unreadable chain, is never verified', () => {
    expect(judgeInterval(listed[0]!, SHARDS, undefined)).toEqual({ state: 'unchecked' });
    expect(judgeInterval(listed[0]!, SHARDS, { error: 'unreachable' })).toEqual({
      state: 'unread',
      message: 'unreachable',
    });
  });

  // Last: it anchors interval 2 on chain.
  it('a pending interval verifies once the chain holds it, before the server records its anchor', async () => {
    await anchorOn(contract, formed[2]!);
    const [c] = await checkIntervals([listed[2]!], { electionId: SHARDED, shards: SHARDS, reader });
    expect(listed[2]!.anchor).toBeNull();
    expect(c).toMatchObject({ state: 'verified', chain: { index: 2, root: formed[2]!.root } });
  });
});
