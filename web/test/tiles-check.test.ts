// check.ts names its messages by i18n.ts's keys (a type import), which brings the page's DOM code into this
// Node program: it iterates NodeLists, so the DOM's iterable typings are needed here too.
/// <reference lib="dom.iterable" />
// The voter page's "Check my receipt" (web/src/check.ts) in tiles mode, under Node against real parts: the API over
// HTTP on a real database (api/test/helper.ts) serving the windows' tiles, TallyAnchor on anvil, and a "CDN": an
// HTTP server on another port relaying the API's tile paths under its own base, which a test may make drop or alter
// a tile. The window is found on chain by binary search, the audit path computed from tiles (a window of 290 ballots
// has a level-1 tile), the root compared with the chain's; without the proof bundle it still verifies; altered or
// missing tiles fail or fall back, as the steps say; pending and sealed ballots keep the bundle's path; a sharded
// election proves its window level from the shard's tiles and its interval level from the bundle.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Wallet, type ContractTransactionResponse } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type TestApi } from '../../api/test/helper.js';
import { deployTallyAnchor, electionKey, tallyAnchor, type TallyAnchorContract } from '../../contracts/index.js';
import {
  formInterval,
  recordAnchor,
  recordIntervalAnchor,
  sealWindow,
  type AnchorInterval,
} from '../../ledger/src/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import { ballotFor, selectionsFor, type Voter } from '../../test/support/fixtures.js';
import { ChainReader } from '../src/chain.js';
import { checkReceipt, type CheckInput, type CheckResult } from '../src/check.js';
import type { ProofBundle, Receipt } from '../src/protocol.js';
import { bytesToHex, hexToBytes, leafHash } from '../src/protocol.js';

const PLAIN = 'web-tiles-check';
const SHARDED = 'web-tiles-check-sharded';
/** Windows anchored on chain, by ballot count: a level-1 tile in window 1, then single-ballot windows. */
const ANCHORED = [3, 290, 1, 1, 1, 1, 1, 1, 1];
/** Then a window sealed but not anchored, and one ballot left pending. */
const SEALED_ONLY = 2;
const VOTERS = ANCHORED.reduce((a, b) => a + b, 0) + SEALED_ONLY + 1;

let chain: AnvilNode;
let contract: TallyAnchorContract;
let api: TestApi;
/** Receipts of the plain election, by seq. */
const receipts: Receipt[] = [];
const shardedReceipts: Receipt[] = [];
let interval: AnchorInterval;
let cdn: Cdn;

/** Sends, waits for it to be mined, and gives the transaction as the ledger records it. */
async function mined(sent: Promise<ContractTransactionResponse>): Promise<{ txHash: string; blockNumber: number }> {
  const tx = await sent;
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`transaction ${tx.hash} failed`);
  return { txHash: tx.hash, blockNumber: receipt.blockNumber };
}

async function register(electionId: string): Promise<void> {
  const e = (await api.request('GET', `/api/v1/elections/${electionId}`)).body;
  await mined(contract.registerElection(electionKey(electionId), `0x${e.manifestHash}`, `0x${e.rollRoot}`));
}

async function cast(electionId: string, voters: Voter[], into: Receipt[]): Promise<void> {
  for (const v of voters) {
    const r = await api.request('POST', `/api/v1/elections/${electionId}/ballots`, {
      json: ballotFor(v, electionId, selectionsFor(into.length)),
    });
    expect(r.status).toBe(201);
    into.push(r.body.receipt);
  }
}

async function bundleOf(ballotHash: string): Promise<ProofBundle> {
  const r = await api.request<ProofBundle>('GET', `/api/v1/receipts/${ballotHash}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** What the voter page passes to checkReceipt; tiles from the API unless `over` says otherwise. */
async function inputFor(receipt: Receipt, over: Partial<CheckInput> = {}): Promise<CheckInput> {
  const e = (await api.request('GET', `/api/v1/elections/${receipt.electionId}`)).body;
  return {
    ballotHash: receipt.ballotHash,
    bundle: 'bundle' in over ? over.bundle! : await bundleOf(receipt.ballotHash),
    manifest: e.manifest,
    chainId: e.chainId,
    rpcUrl: chain.rpcUrl,
    contract: e.contract,
    receiptFile: receipt,
    tilesBase: `${api.url}/api/v1/elections/`,
    ...over,
  };
}

const stepKeys = (r: CheckResult) => r.steps.map((s) => `${s.key}:${s.ok}`);
const stepOf = (r: CheckResult, key: string) => r.steps.find((s) => s.key === key);

/**
 * A CDN in front of the API's tiles: `{base}{id}/…` relays `/api/v1/elections/{id}/…`; `alter` may replace a tile's
 * bytes or answer 404 (null). Records the paths asked for.
 */
interface Cdn {
  base: string;
  requests: string[];
  alter: ((path: string, body: Uint8Array) => Uint8Array | null) | null;
  server: Server;
}

async function startCdn(origin: string): Promise<Cdn> {
  const cdn: Cdn = { base: '', requests: [], alter: null, server: createServer() };
  cdn.server.on('request', (req, res) => {
    void (async () => {
      const path = (req.url ?? '').replace(/^\/mirror\//, '');
      cdn.requests.push(path);
      const upstream = await fetch(`${origin}/api/v1/elections/${path}`);
      let body: Uint8Array | null = new Uint8Array(await upstream.arrayBuffer());
      if (upstream.status === 200 && cdn.alter) body = cdn.alter(path, body);
      res.writeHead(body === null ? 404 : upstream.status, { 'content-type': 'application/octet-stream' });
      res.end(body ?? undefined);
    })().catch((err: Error) => {
      res.writeHead(502);
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve) => cdn.server.listen(0, '127.0.0.1', resolve));
  cdn.base = `http://127.0.0.1:${(cdn.server.address() as AddressInfo).port}/mirror/`;
  return cdn;
}

beforeAll(async () => {
  chain = await startAnvil();
  const provider = anvilProvider(chain);
  const anchorer = new Wallet(chain.accounts[0]!.privateKey, provider);
  const deployment = await deployTallyAnchor(anchorer);
  contract = tallyAnchor(deployment.address, anchorer);
  api = await build({ chain: { chainId: deployment.chainId, contract: deployment.address }, rateLimits: false });
  cdn = await startCdn(api.url);

  // The plain election: each anchored window sealed, anchored and recorded; then one sealed only, one pending.
  const { voters } = await api.election(PLAIN, VOTERS);
  await register(PLAIN);
  let next = 0;
  for (const count of [...ANCHORED, SEALED_ONLY]) {
    await cast(PLAIN, voters.slice(next, next + count), receipts);
    next += count;
    const w = (await sealWindow(api.db.app, PLAIN))!;
    expect(w.count).toBe(count);
    if (receipts.length > ANCHORED.reduce((a, b) => a + b, 0)) continue;
    const tx = await mined(contract.anchorWindow(electionKey(PLAIN), w.index, w.firstSeq, w.count, `0x${w.root}`));
    await recordAnchor(api.db.app, PLAIN, w.index, tx);
  }
  await cast(PLAIN, voters.slice(next), receipts);

  // The sharded election: every shard's window 0 in interval 0, anchored.
  const { voters: shardVoters } = await api.election(SHARDED, 10, { shards: 2 });
  await cast(SHARDED, shardVoters, shardedReceipts);
  for (let shard = 0; shard < 2; shard++) await sealWindow(api.db.app, SHARDED, { shard });
  interval = (await formInterval(api.db.app, SHARDED))!;
  await register(SHARDED);
  const tx = await mined(
    contract.anchorInterval(
      electionKey(SHARDED),
      interval.index,
      interval.windowCount,
      interval.ballotCount,
      `0x${interval.root}`,
    ),
  );
  await recordIntervalAnchor(api.db.app, SHARDED, interval.index, tx);
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => cdn?.server.close(resolve));
  await api?.close();
  await chain?.stop();
});

const anchoredCount = ANCHORED.reduce((a, b) => a + b, 0);
/** The window index and leaf index of seq in the anchored windows. */
function placeOf(seq: number): { index: number; leaf: number; count: number } {
  let first = 0;
  for (const [index, count] of ANCHORED.entries()) {
    if (seq < first + count) return { index, leaf: seq - first, count };
    first += count;
  }
  throw new Error(`seq ${seq} is not anchored`);
}

describe('the window of a seq, from the chain alone', () => {
  it('binary search over windowCount finds every anchored seq’s window, with or without a hint, and no other', async () => {
    const reader = await ChainReader.connect(chain.rpcUrl, await contract.getAddress(), chain.chainId);
    try {
      for (let seq = 0; seq < anchoredCount; seq++) {
        const found = await reader.windowOfSeq(PLAIN, seq);
        expect(found?.index, `seq ${seq}`).toBe(placeOf(seq).index);
        expect(found!.window.count).toBe(ANCHORED[found!.index]);
      }
      for (const hint of [0, 1, 5, ANCHORED.length - 1, ANCHORED.length, 99])
        expect((await reader.windowOfSeq(PLAIN, 295, hint))?.index).toBe(placeOf(295).index);
      for (const seq of [anchoredCount, anchoredCount + SEALED_ONLY, 10 ** 9])
        expect(await reader.windowOfSeq(PLAIN, seq)).toBeNull();
      expect(await reader.windowOfSeq('no-such-election', 0)).toBeNull();
    } finally {
      reader.destroy();
    }
  });
});

describe('checkReceipt from tiles, an election of one shard', () => {
  it('verifies from the API’s tiles, then checks the server’s proof and transaction too', async () => {
    for (const seq of [0, 3, 100, 255, 256, 292, anchoredCount - 1]) {
      const r = await checkReceipt(await inputFor(receipts[seq]!));
      const { index, leaf, count } = placeOf(seq);
      expect(r.outcome, `seq ${seq}: ${JSON.stringify(r.outcome)}`).toMatchObject({ state: 'verified' });
      expect(r.via).toBe('tiles');
      expect(r.windowIndex).toBe(index);
      expect(stepKeys(r)).toEqual([
        'check.step.file:true',
        'check.step.receipt:true',
        'check.step.chainWindow:true',
        'check.step.viaTiles:null',
        'check.step.tileLeaf:true',
        'check.step.tilesProof:true',
        'check.step.tilesRoot:true',
        'check.step.proof:true',
        'check.step.chainRoot:true',
        'check.step.tx:true',
      ]);
      expect(stepOf(r, 'check.step.tilesProof')!.params).toMatchObject({ leaf, count });
      expect(stepOf(r, 'check.step.viaTiles')!.params).toEqual({ base: `${api.url}/api/v1/elections/` });
    }
  });

  it('verifies through a CDN without the proof bundle, reading at most two tiles per level', async () => {
    const seq = 280; // leaf 277 of window 1 (290 ballots): reads the level-1 tile and the partial level-0 one
    cdn.requests.length = 0;
    const r = await checkReceipt(
      await inputFor(receipts[seq]!, { bundle: null, bundleError: 'offline', tilesBase: cdn.base }),
    );
    expect(r.outcome).toMatchObject({ state: 'verified' });
    expect(stepKeys(r)).toEqual([
      'check.step.noBundle:null',
      'check.step.receipt:true',
      'check.step.chainWindow:true',
      'check.step.viaTiles:null',
      'check.step.tileLeaf:true',
      'check.step.tilesProof:true',
      'check.step.tilesRoot:true',
    ]);
    expect(cdn.requests.sort()).toEqual([`${PLAIN}/windows/1/tile/0/001.p/34`, `${PLAIN}/windows/1/tile/1/000.p/1`]);
  });

  it('fails on an altered tile: a sibling’s hash at the chain root, the ballot’s own leaf at the tile', async () => {
    const receipt = receipts[100]!; // leaf 97 of window 1: its level-0 tile is full
    const sibling = (path: string, body: Uint8Array) => {
      if (!path.endsWith('/tile/0/000')) return body;
      const altered = body.slice();
      altered[96 * 32]! ^= 0x01; // leaf 96, the ballot's sibling
      return altered;
    };
    cdn.alter = sibling;
    const r = await checkReceipt(await inputFor(receipt, { tilesBase: cdn.base }));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.tilesRoot', params: { index: 1 } });
    expect(r.steps.at(-1)).toMatchObject({ ok: false, key: 'check.step.tilesRoot' });

    cdn.alter = (path, body) => {
      if (!path.endsWith('/tile/0/000')) return body;
      const altered = body.slice();
      altered.set(leafHash(hexToBytes(receipts[101]!.ballotHash)), 97 * 32); // another ballot at its place
      return altered;
    };
    const other = await checkReceipt(await inputFor(receipt, { tilesBase: cdn.base }));
    expect(other.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.tileLeaf', params: { seq: 100 } });
    expect(other.steps.at(-1)).toMatchObject({ ok: false, key: 'check.step.tileLeaf' });

    cdn.alter = (path, body) => (path.endsWith('/tile/0/000') ? body.subarray(32) : body);
    const short = await checkReceipt(await inputFor(receipt, { tilesBase: cdn.base }));
    expect(short.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.tiles' });
    cdn.alter = null;
  });

  it('tiles that cannot be read: the server’s proof instead, as a step says; without it, no verdict', async () => {
    cdn.alter = () => null;
    try {
      const receipt = receipts[1]!;
      const r = await checkReceipt(await inputFor(receipt, { tilesBase: cdn.base }));
      expect(r.outcome).toMatchObject({ state: 'verified' });
      expect(r.via).toBe('bundle');
      expect(stepKeys(r)).toEqual([
        'check.step.file:true',
        'check.step.receipt:true',
        'check.step.tilesUnread:null',
        'check.step.chainWindow:true',
        'check.step.proof:true',
        'check.step.chainRoot:true',
        'check.step.tx:true',
      ]);
      expect(String(stepOf(r, 'check.step.tilesUnread')!.params!.message)).toContain('HTTP 404');

      const alone = await checkReceipt(await inputFor(receipt, { bundle: null, tilesBase: cdn.base }));
      expect(alone.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.tilesUnread' });
    } finally {
      cdn.alter = null;
    }
  });

  it('an altered proof from the server still fails at the chain root, although the tiles verify', async () => {
    const receipt = receipts[50]!;
    const bundle = structuredClone(await bundleOf(receipt.ballotHash));
    const entry = hexToBytes(bundle.inclusion!.auditPath[0]!);
    entry[0]! ^= 0x80;
    bundle.inclusion!.auditPath[0] = bytesToHex(entry);
    const r = await checkReceipt(await inputFor(receipt, { bundle }));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.chainRoot' });
    expect(stepKeys(r)).toContain('check.step.tilesRoot:true');
    expect(r.steps.filter((s) => s.ok === false)).toEqual([{ ok: false, key: 'check.step.chainRoot' }]);
  });

  it('pending and sealed-not-anchored ballots keep the bundle’s path, saying why', async () => {
    const sealed = await checkReceipt(await inputFor(receipts[anchoredCount]!));
    expect(sealed.outcome).toEqual({ state: 'sealed' });
    expect(sealed.via).toBe('bundle');
    expect(stepKeys(sealed)).toContain('check.step.notAnchoredYet:null');
    expect(stepKeys(sealed)).toContain('check.step.serverRoot:true');

    const pending = await checkReceipt(await inputFor(receipts.at(-1)!));
    expect(pending.outcome).toEqual({ state: 'pending' });
    expect(stepKeys(pending).at(-1)).toBe('check.step.notAnchoredYet:null');

    // Without the bundle the chain alone cannot say more: no verdict.
    const alone = await checkReceipt(await inputFor(receipts.at(-1)!, { bundle: null, bundleError: '503' }));
    expect(alone.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.noBundle' });
  });

  it('no chain to read: the bundle’s path, as before tiles', async () => {
    const r = await checkReceipt(await inputFor(receipts.at(-1)!, { rpcUrl: null }));
    expect(r.outcome).toEqual({ state: 'pending' });
    expect(stepKeys(r)).toContain('check.step.viaBundleNoSettings:null');
    const anchored = await checkReceipt(await inputFor(receipts[0]!, { rpcUrl: null }));
    expect(anchored.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.noRpc' });
  });
});

describe('checkReceipt from tiles, a sharded election', () => {
  it('proves the window level from the shard’s tiles and the interval level from the bundle', async () => {
    expect(new Set(shardedReceipts.map((r) => r.shard)).size).toBe(2);
    for (const receipt of shardedReceipts) {
      const r = await checkReceipt(await inputFor(receipt));
      expect(r.outcome, JSON.stringify(r.outcome)).toMatchObject({ state: 'verified' });
      expect(r.via).toBe('tiles');
      expect(stepKeys(r)).toEqual([
        'check.step.file:true',
        'check.step.receipt:true',
        'check.step.shard:true',
        'check.step.chainInterval:true',
        'check.step.viaTilesShard:null',
        'check.step.tileLeaf:true',
        'check.step.tilesProof:true',
        'check.step.intervalProof:true',
        'check.step.chainIntervalRoot:true',
        'check.step.proof:true',
        'check.step.bundleWindowRoot:true',
        'check.step.tx:true',
      ]);
      expect((r.outcome as { chainInterval: { root: string } }).chainInterval.root).toBe(interval.root);
    }
  });

  it('an altered shard tile breaks the window’s record, so the interval root on chain', async () => {
    const receipt = shardedReceipts.find((r) => shardedReceipts.filter((x) => x.shard === r.shard).length > 1)!;
    cdn.alter = (path, body) => {
      if (!path.includes(`/shards/${receipt.shard}/windows/0/tile/0/`)) return body;
      const altered = body.slice();
      const leaf = leafHash(hexToBytes(receipt.ballotHash));
      // Alter every hash but the ballot's own: whichever the path uses.
      for (let at = 0; at < altered.length; at += 32)
        if (!leaf.every((b, i) => b === altered[at + i])) altered[at]! ^= 0x01;
      return altered;
    };
    try {
      const r = await checkReceipt(await inputFor(receipt, { tilesBase: cdn.base }));
      expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.chainIntervalRoot' });
      expect(cdn.requests.some((p) => p.startsWith(`${SHARDED}/shards/${receipt.shard}/windows/0/tile/`))).toBe(true);
    } finally {
      cdn.alter = null;
    }
  });

  it('without the bundle a sharded receipt cannot be placed: no verdict', async () => {
    const r = await checkReceipt(await inputFor(shardedReceipts[0]!, { bundle: null, bundleError: 'offline' }));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.noBundle' });
  });
});
