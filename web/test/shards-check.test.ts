// check.ts names its messages by i18n.ts's keys (a type import), which brings the page's DOM code into this
// Node program: it iterates NodeLists, so the DOM's iterable typings are needed here too.
/// <reference lib="dom.iterable" />
// The voter page's "Check my receipt" (web/src/check.ts) on an election split into shards (docs/protocol.md
// section 13), under Node against real parts: the API over HTTP on a real database (api/test/helper.ts), the
// ledger's own sealing and intervals, and TallyAnchor on anvil with the interval anchored by anchorInterval.
// A sharded receipt verifies through both levels against the root read from the chain; an altered interval
// path, another root on chain and a receipt whose shard was changed each fail at their step; an election of
// one shard still verifies window by window, with the steps it always had.
import { readFileSync } from 'node:fs';
import { Wallet, type ContractTransactionResponse } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, testLedgerKey, type TestApi } from '../../api/test/helper.js';
import { deployTallyAnchor, electionKey, tallyAnchor, type TallyAnchorContract } from '../../contracts/index.js';
import {
  formInterval,
  recordAnchor,
  recordIntervalAnchor,
  sealWindow,
  signReceipt,
  type AnchorInterval,
} from '../../ledger/src/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import { ballotFor, selectionsFor, type Voter } from '../../test/support/fixtures.js';
import { checkReceipt, type CheckInput, type CheckResult } from '../src/check.js';
import type { ProofBundle, Receipt } from '../src/protocol.js';
import { bytesToHex, hexToBytes, leafHash, shardOf, windowRecordBytes } from '../src/protocol.js';

const SHARDED = 'web-sharded-check';
const PLAIN = 'web-unsharded-check';
const SHARDS = 4;
const VOTERS = 12;

let chain: AnvilNode;
let anchorer: Wallet;
/** The contract the election's interval is anchored in, with its true root. */
let contract: TallyAnchorContract;
/** A second deployment where the same election's interval 0 has the same counts and another root. */
let otherContract: string;
let api: TestApi;
let voters: Voter[];
const receipts: Receipt[] = [];
let interval: AnchorInterval;
/** A sharded ballot's bundle once sealed into an interval, before that interval is anchored. */
let sealedBundle: ProofBundle;

/** Sends, waits for it to be mined, and gives the transaction as the ledger records it. */
async function mined(sent: Promise<ContractTransactionResponse>): Promise<{ txHash: string; blockNumber: number }> {
  const tx = await sent;
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`transaction ${tx.hash} failed`);
  return { txHash: tx.hash, blockNumber: receipt.blockNumber };
}

async function register(on: TallyAnchorContract, electionId: string): Promise<void> {
  const e = (await api.request('GET', `/api/v1/elections/${electionId}`)).body;
  await mined(on.registerElection(electionKey(electionId), `0x${e.manifestHash}`, `0x${e.rollRoot}`));
}

async function bundleOf(ballotHash: string): Promise<ProofBundle> {
  const r = await api.request<ProofBundle>('GET', `/api/v1/receipts/${ballotHash}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** What the voter page passes to checkReceipt, from the API's election view and the chain's RPC URL. */
async function inputFor(bundle: ProofBundle, over: Partial<CheckInput> = {}): Promise<CheckInput> {
  const e = (await api.request('GET', `/api/v1/elections/${bundle.receipt.electionId}`)).body;
  return {
    ballotHash: bundle.receipt.ballotHash,
    bundle,
    manifest: e.manifest,
    chainId: e.chainId,
    rpcUrl: chain.rpcUrl,
    contract: e.contract,
    ...over,
  };
}

/** A receipt whose shard holds more ballots than it, so that its window's audit path is not empty. */
const inCrowdedShard = (): Receipt => receipts.find((r) => receipts.filter((x) => x.shard === r.shard).length > 1)!;

const stepKeys = (r: CheckResult) => r.steps.map((s) => `${s.key}:${s.ok}`);
const lastStep = (r: CheckResult) => r.steps.at(-1);

/** The bundle with its receipt's shard changed (the ledger key's signature left as it was, or re-made). */
function withShard(bundle: ProofBundle, shard: number, resign: boolean): ProofBundle {
  const { signature: _old, ...body } = bundle.receipt;
  const receipt = resign
    ? (signReceipt(testLedgerKey.privateKey, { ...body, shard }) as Receipt)
    : { ...bundle.receipt, shard };
  return { ...structuredClone(bundle), receipt };
}

beforeAll(async () => {
  chain = await startAnvil();
  const provider = anvilProvider(chain);
  anchorer = new Wallet(chain.accounts[0]!.privateKey, provider);
  const deployment = await deployTallyAnchor(anchorer);
  contract = tallyAnchor(deployment.address, anchorer);
  const other = tallyAnchor((await deployTallyAnchor(anchorer)).address, anchorer);
  otherContract = await other.getAddress();
  api = await build({ chain: { chainId: deployment.chainId, contract: deployment.address } });

  ({ voters } = await api.election(SHARDED, VOTERS, { shards: SHARDS }));
  for (let i = 0; i < VOTERS; i++) {
    const r = await api.request('POST', `/api/v1/elections/${SHARDED}/ballots`, {
      json: ballotFor(voters[i]!, SHARDED, selectionsFor(i)),
    });
    expect(r.status).toBe(201);
    receipts.push(r.body.receipt);
  }
  // Every shard's ballots into its window 0, and those windows into interval 0.
  for (let shard = 0; shard < SHARDS; shard++) await sealWindow(api.db.app, SHARDED, { shard });
  interval = (await formInterval(api.db.app, SHARDED))!;
  sealedBundle = await bundleOf(receipts[0]!.ballotHash);

  await register(contract, SHARDED);
  const anchored = await mined(
    contract.anchorInterval(
      electionKey(SHARDED),
      interval.index,
      interval.windowCount,
      interval.ballotCount,
      `0x${interval.root}`,
    ),
  );
  await recordIntervalAnchor(api.db.app, SHARDED, interval.index, anchored);

  // The other deployment: interval 0 of the same election, same counts, a root with one bit flipped.
  await register(other, SHARDED);
  const wrongRoot = hexToBytes(interval.root);
  wrongRoot[31] = wrongRoot[31]! ^ 1;
  await mined(
    other.anchorInterval(
      electionKey(SHARDED),
      interval.index,
      interval.windowCount,
      interval.ballotCount,
      `0x${bytesToHex(wrongRoot)}`,
    ),
  );
});

afterAll(async () => {
  await api?.close();
  await chain?.stop();
});

describe('the page’s shard code against docs/test-vectors/shards.json', () => {
  const vectors = JSON.parse(readFileSync(new URL('../../docs/test-vectors/shards.json', import.meta.url), 'utf8'));

  it('shardOf', () => {
    for (const v of vectors.shardOf)
      for (const s of v.shards) expect(shardOf(hexToBytes(v.credential), s.shards)).toBe(s.shard);
  });

  it('the 60-byte window record and its leaf hash', () => {
    for (const v of vectors.windowRecords) {
      const bytes = windowRecordBytes(v.record);
      expect(bytesToHex(bytes)).toBe(v.bytes);
      expect(bytesToHex(leafHash(bytes))).toBe(v.leafHash);
    }
  });
});

describe('checkReceipt on a sharded election', () => {
  it('the ballots fell in more than one shard and the interval holds every shard’s window', () => {
    expect(new Set(receipts.map((r) => r.shard)).size).toBeGreaterThan(1);
    expect(interval.windowCount).toBe(new Set(receipts.map((r) => r.shard)).size);
    expect(interval.ballotCount).toBe(VOTERS);
  });

  it('every sharded receipt verifies on chain through its window and its interval', async () => {
    for (const [i, receipt] of receipts.entries()) {
      const bundle = await bundleOf(receipt.ballotHash);
      expect(bundle.status).toBe('anchored');
      const r = await checkReceipt(await inputFor(bundle, { receiptFile: receipt, credential: voters[i]!.credential }));
      expect(r.outcome, JSON.stringify(r.outcome)).toMatchObject({ state: 'verified', chainId: chain.chainId });
      expect(stepKeys(r)).toEqual([
        'check.step.file:true',
        'check.step.receipt:true',
        'check.step.shard:true',
        'check.step.shardCredential:true',
        'check.step.chainInterval:true',
        'check.step.proof:true',
        'check.step.intervalProof:true',
        'check.step.chainIntervalRoot:true',
        'check.step.tx:true',
      ]);
      expect(r.steps[3]!.params).toEqual({ expected: receipt.shard });
      const o = r.outcome as Extract<CheckResult['outcome'], { chainInterval: unknown }>;
      expect(o.chainInterval).toMatchObject({
        index: interval.index,
        root: interval.root,
        windowCount: interval.windowCount,
        ballotCount: interval.ballotCount,
      });
    }
  });

  it('without the credential the shard step against it is skipped, and the receipt still verifies', async () => {
    const r = await checkReceipt(await inputFor(await bundleOf(receipts[1]!.ballotHash)));
    expect(r.outcome.state).toBe('verified');
    expect(stepKeys(r)).not.toContain('check.step.shardCredential:true');
    expect(stepKeys(r)).toContain('check.step.chainIntervalRoot:true');
  });

  it('sealed into an interval not yet anchored: consistent with the server’s interval root, so far', async () => {
    expect(sealedBundle.status).toBe('sealed');
    expect(sealedBundle.interval?.root).toBe(interval.root);
    const r = await checkReceipt(await inputFor(sealedBundle, { credential: voters[0]!.credential }));
    expect(r.outcome).toEqual({ state: 'sealed' });
    expect(stepKeys(r).slice(-3)).toEqual([
      'check.step.serverRoot:true',
      'check.step.intervalProof:true',
      'check.step.serverIntervalRoot:true',
    ]);
  });

  it('an altered interval audit path fails at the interval root read from the chain', async () => {
    const bundle = structuredClone(await bundleOf(inCrowdedShard().ballotHash));
    const path = bundle.interval!.auditPath;
    expect(path.length).toBeGreaterThan(0);
    const entry = hexToBytes(path[0]!);
    entry[0] = entry[0]! ^ 0x80;
    path[0] = bytesToHex(entry);
    const r = await checkReceipt(await inputFor(bundle));
    expect(r.outcome).toMatchObject({
      state: 'failed',
      reason: 'check.fail.chainIntervalRoot',
      params: { index: bundle.window!.index, shard: bundle.receipt.shard, interval: interval.index },
    });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.chainIntervalRoot' });
    // The ballot's own level held: only the interval level broke.
    expect(stepKeys(r)).toContain('check.step.proof:true');
  });

  it('an altered window audit path breaks the record, so the interval root on chain, not the server’s root', async () => {
    const bundle = structuredClone(await bundleOf(inCrowdedShard().ballotHash));
    const path = bundle.inclusion!.auditPath;
    expect(path.length).toBeGreaterThan(0);
    const entry = hexToBytes(path[0]!);
    entry[0] = entry[0]! ^ 0x80;
    path[0] = bytesToHex(entry);
    const r = await checkReceipt(await inputFor(bundle));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.chainIntervalRoot' });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.chainIntervalRoot' });
  });

  it('an audit path of the wrong length is a malformed interval proof', async () => {
    const bundle = structuredClone(await bundleOf(inCrowdedShard().ballotHash));
    bundle.interval!.auditPath.pop();
    const r = await checkReceipt(await inputFor(bundle));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.intervalProof' });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.intervalProof' });
  });

  it('another root on chain fails, although the server’s own interval root matches its proof', async () => {
    const bundle = await bundleOf(receipts[3]!.ballotHash);
    expect(bundle.interval!.root).toBe(interval.root);
    const r = await checkReceipt(await inputFor(bundle, { contract: otherContract }));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.chainIntervalRoot' });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.chainIntervalRoot' });
    expect(stepKeys(r)).toContain('check.step.chainInterval:true');
  });

  it('the server’s interval counts must be the chain’s', async () => {
    const bundle = structuredClone(await bundleOf(receipts[3]!.ballotHash));
    bundle.interval!.ballotCount += 1;
    const r = await checkReceipt(await inputFor(bundle));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.chainInterval' });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.chainInterval' });
  });

  it('an interval the chain does not hold fails as not anchored', async () => {
    const bundle = structuredClone(await bundleOf(receipts[3]!.ballotHash));
    bundle.interval!.index += 1;
    const r = await checkReceipt(await inputFor(bundle));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.noInterval' });
  });

  it('a receipt with its shard changed: the signature no longer verifies', async () => {
    const bundle = await bundleOf(receipts[4]!.ballotHash);
    const changed = withShard(bundle, (bundle.receipt.shard! + 1) % SHARDS, false);
    const r = await checkReceipt(await inputFor(changed, { credential: voters[4]!.credential }));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.receipt' });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.receipt' });
  });

  it('a shard changed and signed again with the ledger key: refused by the credential, else by the window', async () => {
    const bundle = await bundleOf(receipts[4]!.ballotHash);
    const otherShard = (bundle.receipt.shard! + 1) % SHARDS;
    const changed = withShard(bundle, otherShard, true);

    const withCredential = await checkReceipt(await inputFor(changed, { credential: voters[4]!.credential }));
    expect(withCredential.outcome).toMatchObject({
      state: 'failed',
      reason: 'check.fail.shardCredential',
      params: { shard: otherShard, expected: bundle.receipt.shard },
    });
    expect(lastStep(withCredential)).toMatchObject({ ok: false, key: 'check.step.shardCredential' });

    const without = await checkReceipt(await inputFor(changed));
    expect(without.outcome).toMatchObject({
      state: 'failed',
      reason: 'check.fail.windowShard',
      params: { shard: otherShard, got: String(bundle.receipt.shard) },
    });

    const outOfRange = await checkReceipt(await inputFor(withShard(bundle, SHARDS, true)));
    expect(outOfRange.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.shardRange' });
    expect(lastStep(outOfRange)).toMatchObject({ ok: false, key: 'check.step.shard' });
  });

  it('a sharded election’s receipt without a shard is refused', async () => {
    const bundle = await bundleOf(receipts[5]!.ballotHash);
    const { signature: _s, shard: _shard, ...body } = bundle.receipt;
    const unsharded = { ...bundle, receipt: signReceipt(testLedgerKey.privateKey, body) as Receipt };
    const r = await checkReceipt(await inputFor(unsharded));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.noShard' });
  });
});

describe('checkReceipt on an election of one shard', () => {
  let plainReceipt: Receipt;

  beforeAll(async () => {
    const { voters: plainVoters } = await api.election(PLAIN, 3);
    for (const v of plainVoters) {
      const r = await api.request('POST', `/api/v1/elections/${PLAIN}/ballots`, { json: ballotFor(v, PLAIN) });
      expect(r.status).toBe(201);
      plainReceipt = r.body.receipt;
    }
    const w = (await sealWindow(api.db.app, PLAIN))!;
    await register(contract, PLAIN);
    const anchored = await mined(
      contract.anchorWindow(electionKey(PLAIN), w.index, w.firstSeq, w.count, `0x${w.root}`),
    );
    await recordAnchor(api.db.app, PLAIN, w.index, anchored);
  });

  it('verifies window by window with the steps it always had, and no shard anywhere', async () => {
    const bundle = await bundleOf(plainReceipt.ballotHash);
    expect('shard' in bundle.receipt).toBe(false);
    expect(bundle.interval).toBeUndefined();
    const r = await checkReceipt(await inputFor(bundle, { receiptFile: plainReceipt }));
    expect(r.outcome).toMatchObject({ state: 'verified' });
    expect(stepKeys(r)).toEqual([
      'check.step.file:true',
      'check.step.receipt:true',
      'check.step.chainWindow:true',
      'check.step.proof:true',
      'check.step.chainRoot:true',
      'check.step.tx:true',
    ]);
    expect((r.outcome as Extract<CheckResult['outcome'], { chainWindow: unknown }>).chainWindow.root).toBe(
      bundle.window!.root,
    );
  });

  it('an altered window audit path still fails at the chain root, as before', async () => {
    const bundle = structuredClone(await bundleOf(plainReceipt.ballotHash));
    const entry = hexToBytes(bundle.inclusion!.auditPath[0]!);
    entry[0] = entry[0]! ^ 0x80;
    bundle.inclusion!.auditPath[0] = bytesToHex(entry);
    const r = await checkReceipt(await inputFor(bundle));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.chainRoot' });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.chainRoot' });
  });

  it('a shard in the receipt of an election of one shard is refused, even signed', async () => {
    const bundle = await bundleOf(plainReceipt.ballotHash);
    const r = await checkReceipt(await inputFor(withShard(bundle, 0, true)));
    expect(r.outcome).toMatchObject({ state: 'failed', reason: 'check.fail.shardUnexpected' });
    expect(lastStep(r)).toMatchObject({ ok: false, key: 'check.step.shard' });
  });
});
