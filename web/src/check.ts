// "Check my receipt": the checks of protocol.md section 8, in order, each one a step the page shows; for an
// election split into shards (section 13) the proof has two levels, ballot to window root, then the window's
// record to its anchor interval's root. The root that counts is the one read from the chain, never the one
// the server reports.
//
// With `tilesBase` (the page's default), the ballot's own level is proven without the server's proof: the audit
// path is computed by the page from the window's C2SP tlog-tiles (src/tiles.ts), read from the API or a CDN. For an
// election of one shard the window itself is found on chain (ChainReader.windowOfSeq); a sharded election's
// window and its record's path in the interval still come from the proof bundle (no interval tiles exist, and the
// chain holds intervals only), each checked through the interval root on chain. The bundle serves while the
// ballot is not anchored yet, and when the tiles cannot be read; a step says which was used.
import { ChainError, ChainReader, type ChainInterval, type ChainWindow } from './chain.js';
import type { Key } from './i18n.js';
import {
  InclusionProofError,
  bytesToHex,
  hexToBytes,
  isHex,
  isReceipt,
  jcs,
  rootFromInclusionProof,
  shardCountOf,
  shardOf,
  verifyReceiptSignature,
  windowRecordBytes,
  type Manifest,
  type ProofBundle,
  type Receipt,
} from './protocol.js';
import { TileError, httpTileReader, proofFromTiles, tileHoldsLeaf, type TileProof } from './tiles.js';

export interface Step {
  ok: boolean | null; // null: information only
  key: Key;
  params?: Record<string, string | number>;
}

export type Outcome =
  | { state: 'verified'; chainWindow: ChainWindow; chainId: number; contract: string }
  // A sharded election: the ballot's window is proven through its record in this interval.
  | { state: 'verified'; chainInterval: ChainInterval; chainId: number; contract: string }
  | { state: 'sealed' }
  | { state: 'pending' }
  | { state: 'failed'; reason: Key; params: Record<string, string | number> };

export interface CheckResult {
  /** The receipt checked: the server's (in the bundle), else the voter's file. */
  receipt: Receipt;
  /** The server's proof bundle; null when it could not be had and the voter's file was checked without it. */
  bundle: ProofBundle | null;
  /** Where the ballot's audit path came from: the page's own computation from tiles, or the proof bundle. */
  via: 'tiles' | 'bundle';
  /** The ballot's window as the check found it (on chain in tiles mode), else the bundle's; null when none yet. */
  windowIndex: number | null;
  steps: Step[];
  outcome: Outcome;
}

export interface CheckInput {
  /** The receipt hash asked for. */
  ballotHash: string;
  /** `GET /api/v1/receipts/{hash}`; null when it could not be had (then `receiptFile` is required). */
  bundle: ProofBundle | null;
  /** Why there is no bundle (shown in the steps). */
  bundleError?: string | null;
  manifest: Manifest;
  /** The chain the election says it is on; the node must be that chain. */
  chainId: number | null;
  rpcUrl: string | null;
  contract: string | null;
  /** The receipt the voter kept (file), compared byte for byte (JCS) with the one served. */
  receiptFile?: Receipt | null;
  /** The ballot's credential (hex) when the page knows it: a sharded receipt's shard is checked against it. */
  credential?: string | null;
  /**
   * Absolute URL the windows' tiles are read under (`{base}{id}/windows/{w}/tile/…`, or `…/shards/{s}/windows/…`):
   * this origin's `/api/v1/elections/` or a CDN. Unset: the proof bundle only, as before tiles.
   */
  tilesBase?: string | null;
}

/** Reasons that mean nothing was compared (the chain, the tiles or the server could not be read): no verdict. */
export const UNREAD_REASONS: readonly Key[] = [
  'check.fail.noRpc',
  'check.fail.noContract',
  'check.fail.chain',
  'check.fail.tilesUnread',
  'check.fail.noBundle',
];

function fail(
  result: CheckResult,
  reason: Key,
  params: Record<string, string | number> = {},
  step?: Step,
): CheckResult {
  if (step) result.steps.push(step);
  result.outcome = { state: 'failed', reason, params };
  return result;
}

export async function checkReceipt(input: CheckInput): Promise<CheckResult> {
  const { manifest } = input;
  const bundle = input.bundle ?? null;
  const receipt = bundle ? bundle?.receipt : input.receiptFile;
  const result: CheckResult = {
    receipt: receipt as Receipt,
    bundle,
    via: 'bundle',
    windowIndex: bundle?.window?.index ?? null,
    steps: [],
    outcome: { state: 'pending' },
  };

  // 1. The server answered for the receipt asked about, and (when the voter has it) the same receipt.
  if (!isReceipt(receipt) || receipt.ballotHash !== input.ballotHash) return fail(result, 'check.fail.hash');
  if (!bundle) {
    result.steps.push({ ok: null, key: 'check.step.noBundle', params: { message: input.bundleError ?? '?' } });
  } else if (input.receiptFile) {
    const same = jcs(input.receiptFile) === jcs(receipt);
    if (!same) return fail(result, 'check.fail.file', {}, { ok: false, key: 'check.step.file' });
    result.steps.push({ ok: true, key: 'check.step.file' });
  }

  // 2. The receipt is signed by the election's ledger key (strict RFC 8032).
  const signed = receipt.electionId === manifest.electionId && verifyReceiptSignature(receipt, manifest.ledgerKey);
  if (!signed)
    return fail(result, 'check.fail.receipt', { id: receipt.electionId }, { ok: false, key: 'check.step.receipt' });
  result.steps.push({ ok: true, key: 'check.step.receipt' });

  // 2b (section 13). The receipt names a shard exactly when the election has several, one of them, and the
  // one its credential falls in when the page knows the credential.
  const shards = shardCountOf(manifest);
  if (shards === null) return fail(result, 'check.fail.shards', { shards: String(manifest.shards) });
  const sharded = shards > 1;
  const shardParams = { shard: receipt.shard ?? '?', shards };
  const shardStep = (ok: boolean): Step => ({ ok, key: 'check.step.shard', params: shardParams });
  if (!sharded && receipt.shard !== undefined)
    return fail(result, 'check.fail.shardUnexpected', shardParams, shardStep(false));
  if (sharded) {
    if (receipt.shard === undefined) return fail(result, 'check.fail.noShard', shardParams, shardStep(false));
    if (receipt.shard >= shards)
      return fail(result, 'check.fail.shardRange', { ...shardParams, last: shards - 1 }, shardStep(false));
    result.steps.push(shardStep(true));
    if (input.credential && isHex(input.credential, 32)) {
      const expected = shardOf(hexToBytes(input.credential), shards);
      const step: Step = { ok: expected === receipt.shard, key: 'check.step.shardCredential', params: { expected } };
      if (!step.ok) return fail(result, 'check.fail.shardCredential', { shard: receipt.shard, expected }, step);
      result.steps.push(step);
    }
  }

  // 3 (tiles, one shard). The window found on chain, the audit path computed from its tiles; null: the bundle's.
  if (input.tilesBase && !sharded) {
    const decided = await checkWithTiles(input, result, receipt);
    if (decided) return decided;
  }
  // Without the bundle nothing else can be checked: a sharded ballot's window is known to the server only.
  if (!bundle) return fail(result, 'check.fail.noBundle', { message: input.bundleError ?? '?', seq: receipt.seq });

  if (bundle.status === 'pending' || !bundle.window || !bundle.inclusion) {
    result.outcome = { state: 'pending' };
    return result;
  }

  const w = bundle.window;
  if (sharded && w.shard !== receipt.shard)
    return fail(result, 'check.fail.windowShard', {
      index: w.index,
      got: w.shard === undefined ? '?' : String(w.shard),
      shard: receipt.shard!,
    });
  const rootFor = bundleRootFor(result, receipt, bundle);
  if (typeof rootFor !== 'function') return rootFor;

  if (bundle.status !== 'anchored' || !bundle.anchor) {
    // 3 (sealed). Only the server's root exists yet: consistent so far, not yet verifiable on chain.
    const root = rootFor(w.firstSeq, w.count);
    if (typeof root !== 'string') return root;
    if (root !== w.root)
      return fail(result, 'check.fail.serverRoot', { index: w.index }, { ok: false, key: 'check.step.serverRoot' });
    result.steps.push({ ok: true, key: 'check.step.serverRoot' });
    if (sharded && bundle.interval) {
      // In an interval not anchored yet: the record's path against the server's interval root, so far.
      const iv = bundle.interval;
      const ivRoot = intervalRootFor(result, receipt.shard!, w, root, iv, iv.windowCount);
      if (typeof ivRoot !== 'string') return ivRoot;
      const step: Step = { ok: ivRoot === iv.root, key: 'check.step.serverIntervalRoot' };
      if (!step.ok) return fail(result, 'check.fail.serverIntervalRoot', { index: iv.index }, step);
      result.steps.push(step);
    }
    result.outcome = { state: 'sealed' };
    return result;
  }

  if (sharded) return checkAnchoredInterval(input, result, receipt, receipt.shard!, rootFor);

  // 3 (anchored). Read the window from the chain itself.
  const reader = await connectReader(input, result);
  if (!(reader instanceof ChainReader)) return reader;
  let chainWindow: ChainWindow;
  try {
    try {
      chainWindow = await reader.getWindow(receipt.electionId, w.index);
    } catch (err) {
      if (err instanceof ChainError && err.kind === 'no-window')
        return fail(result, 'check.fail.noWindow', { index: w.index });
      return fail(result, 'check.fail.chain', { message: (err as Error).message });
    }
    const windowStep: Step = {
      ok: true,
      key: 'check.step.chainWindow',
      params: { index: w.index, first: chainWindow.firstSeq, last: chainWindow.firstSeq + chainWindow.count - 1 },
    };
    const inWindow = receipt.seq >= chainWindow.firstSeq && receipt.seq < chainWindow.firstSeq + chainWindow.count;
    if (chainWindow.firstSeq !== w.firstSeq || chainWindow.count !== w.count || !inWindow) {
      return fail(result, 'check.fail.chainWindow', { index: w.index }, { ...windowStep, ok: false });
    }
    result.steps.push(windowStep);

    // 4. Recompute the root from the ballot hash, the signed seq and the chain's window size.
    if (!bundleProofLeadsTo(result, rootFor, w.index, chainWindow)) return result;

    // 5. The anchoring transaction the server names is a mined call to that contract.
    if (!(await checkAnchorTx(reader, bundle, result))) return result;
    result.outcome = { state: 'verified', chainWindow, chainId: reader.chainId, contract: reader.contractAddress };
    return result;
  } finally {
    reader.destroy();
  }
}

/**
 * The bundle's audit path as a RootFor, once its entries are 32-byte hex; the failed check when they are not.
 */
function bundleRootFor(result: CheckResult, receipt: Receipt, bundle: ProofBundle): RootFor | CheckResult {
  const path = bundle.inclusion?.auditPath;
  if (!Array.isArray(path) || !path.every((p) => isHex(p, 32))) {
    return fail(
      result,
      'check.fail.proof',
      { message: 'audit path entries must be 32-byte hex' },
      { ok: false, key: 'check.step.proof', params: { leaf: '?', count: '?' } },
    );
  }
  const pathBytes = path.map((p) => hexToBytes(p));
  const leaf = hexToBytes(receipt.ballotHash);
  return (firstSeq, count) => {
    const leafIndex = receipt.seq - firstSeq;
    const params = { leaf: leafIndex, count };
    try {
      if (bundle.inclusion!.leafIndex !== leafIndex)
        throw new InclusionProofError(
          `leafIndex ${bundle.inclusion!.leafIndex} is not seq ${receipt.seq} − firstSeq ${firstSeq}`,
        );
      const root = bytesToHex(rootFromInclusionProof(leaf, leafIndex, count, pathBytes));
      result.steps.push({ ok: true, key: 'check.step.proof', params });
      return root;
    } catch (err) {
      if (!(err instanceof InclusionProofError)) throw err;
      return fail(result, 'check.fail.proof', { message: err.message }, { ok: false, key: 'check.step.proof', params });
    }
  };
}

/** The bundle's proof to the chain's window root: the proof and chainRoot steps; false when it failed. */
function bundleProofLeadsTo(result: CheckResult, rootFor: RootFor, index: number, chainWindow: ChainWindow): boolean {
  const root = rootFor(chainWindow.firstSeq, chainWindow.count);
  if (typeof root !== 'string') return false;
  if (root !== chainWindow.root) {
    fail(result, 'check.fail.chainRoot', { index }, { ok: false, key: 'check.step.chainRoot' });
    return false;
  }
  result.steps.push({ ok: true, key: 'check.step.chainRoot' });
  return true;
}

/**
 * A window's audit path from its tiles under input.tilesBase, and the leaf its level-0 tile holds checked against
 * the ballot hash: the proof, or the failed check (malformed tiles, another ballot at that seq, a leaf index
 * outside the window), or a TileError `unreadable` for the caller to fall back on.
 */
async function tileProofFor(
  input: CheckInput,
  result: CheckResult,
  receipt: Receipt,
  where: { index: number; firstSeq: number; count: number; shard: number | null },
): Promise<TileProof | CheckResult | TileError> {
  const base = input.tilesBase!;
  const leafIndex = receipt.seq - where.firstSeq;
  const proofParams = { leaf: leafIndex, count: where.count, tiles: '?' };
  let proof: TileProof;
  try {
    proof = await proofFromTiles(
      leafIndex,
      where.count,
      httpTileReader(base, receipt.electionId, where.index, where.shard),
    );
  } catch (err) {
    if (err instanceof TileError && err.kind === 'unreadable') return err;
    if (err instanceof TileError || err instanceof RangeError)
      return fail(
        result,
        'check.fail.tiles',
        { base, message: err.message },
        { ok: false, key: 'check.step.tilesProof', params: proofParams },
      );
    throw err;
  }
  result.via = 'tiles';
  result.steps.push({
    ok: null,
    key: where.shard === null ? 'check.step.viaTiles' : 'check.step.viaTilesShard',
    params: { base },
  });
  const leafStep: Step = { ok: true, key: 'check.step.tileLeaf', params: { leaf: leafIndex, index: where.index } };
  if (!tileHoldsLeaf(proof, hexToBytes(receipt.ballotHash)))
    return fail(result, 'check.fail.tileLeaf', { seq: receipt.seq, index: where.index }, { ...leafStep, ok: false });
  result.steps.push(leafStep);
  result.steps.push({ ok: true, key: 'check.step.tilesProof', params: { ...proofParams, tiles: proof.tiles.length } });
  return proof;
}

/**
 * 3–5 of an election of one shard, from tiles: the window holding the signed seq read from the chain (never the
 * server's), the audit path computed from its tiles, the leaf checked in its level-0 tile, the root recomputed and
 * compared with the chain's; then the server's own proof when it sent one (a proof it serves must hold too), and
 * the anchoring transaction it names. Null when the bundle is to decide (a step says why): no window on chain
 * holds the seq yet, the chain or the tiles could not be read.
 */
async function checkWithTiles(input: CheckInput, result: CheckResult, receipt: Receipt): Promise<CheckResult | null> {
  const bundle = result.bundle;
  const fallBack = (key: Key, params: Record<string, string | number>): null => {
    result.steps.push({ ok: null, key, params });
    return null;
  };
  const reader = await openReader(input);
  if (!(reader instanceof ChainReader)) {
    if (bundle && reader.reason !== 'check.fail.chain') return fallBack('check.step.viaBundleNoSettings', {});
    if (bundle) return fallBack('check.step.viaBundleNoChain', { message: reader.params.message ?? '?' });
    return fail(result, reader.reason, reader.params);
  }
  try {
    let found: Awaited<ReturnType<ChainReader['windowOfSeq']>>;
    try {
      found = await reader.windowOfSeq(receipt.electionId, receipt.seq, bundle?.window?.index ?? null);
    } catch (err) {
      const message = (err as Error).message;
      if (bundle) return fallBack('check.step.viaBundleNoChain', { message });
      return fail(result, 'check.fail.chain', { message });
    }
    if (!found) {
      if (bundle) return fallBack('check.step.notAnchoredYet', { seq: receipt.seq });
      return fail(result, 'check.fail.noBundle', { message: input.bundleError ?? '?', seq: receipt.seq });
    }
    const { index, window: chainWindow } = found;
    result.windowIndex = index;
    const windowStep: Step = {
      ok: true,
      key: 'check.step.chainWindow',
      params: { index, first: chainWindow.firstSeq, last: chainWindow.firstSeq + chainWindow.count - 1 },
    };
    const at = result.steps.push(windowStep) - 1;

    const proof = await tileProofFor(input, result, receipt, { ...chainWindow, index, shard: null });
    if (proof instanceof TileError) {
      // The bundle's path reads the window again, with its own step.
      result.steps.splice(at, 1);
      result.windowIndex = bundle?.window?.index ?? null;
      if (bundle) return fallBack('check.step.tilesUnread', { message: proof.message });
      return fail(result, 'check.fail.tilesUnread', { message: proof.message });
    }
    if (!('auditPath' in proof)) return proof;
    const leaf = hexToBytes(receipt.ballotHash);
    const root = bytesToHex(rootFromInclusionProof(leaf, proof.leafIndex, proof.treeSize, proof.auditPath));
    if (root !== chainWindow.root)
      return fail(result, 'check.fail.tilesRoot', { index }, { ok: false, key: 'check.step.tilesRoot' });
    result.steps.push({ ok: true, key: 'check.step.tilesRoot' });

    // The server's proof, when it sent one, for the same window and to the same root.
    if (bundle?.window && bundle.inclusion) {
      const w = bundle.window;
      if (w.index !== index || w.firstSeq !== chainWindow.firstSeq || w.count !== chainWindow.count)
        return fail(result, 'check.fail.chainWindow', { index: w.index }, { ...windowStep, ok: false });
      const rootFor = bundleRootFor(result, receipt, bundle);
      if (typeof rootFor !== 'function') return rootFor;
      if (!bundleProofLeadsTo(result, rootFor, index, chainWindow)) return result;
    }
    if (bundle?.anchor && !(await checkAnchorTx(reader, bundle, result))) return result;
    result.outcome = { state: 'verified', chainWindow, chainId: reader.chainId, contract: reader.contractAddress };
    return result;
  } finally {
    reader.destroy();
  }
}

/** Window root from the signed seq and the window's firstSeq/count: its hex, or why the proof is wrong. */
/**
 * The window root the bundle's audit path gives for the signed seq in a window of `firstSeq`/`count`, its proof
 * step recorded; the failed check when the path does not fit that window.
 */
type RootFor = (firstSeq: number, count: number) => string | CheckResult;

const isUint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The interval root the window's record leads to (13.4): the record built from the receipt's shard, the
 * window's index, firstSeq and count and the root recomputed from the ballot hash (never the server's
 * window root), then its audit path in a tree of `windowCount` records. The step is recorded; a malformed
 * proof fails the check (the CheckResult is returned).
 */
function intervalRootFor(
  result: CheckResult,
  shard: number,
  w: NonNullable<ProofBundle['window']>,
  windowRoot: string,
  iv: NonNullable<ProofBundle['interval']>,
  windowCount: number,
): string | CheckResult {
  const params = { record: String(iv.recordIndex), count: windowCount };
  const step: Step = { ok: false, key: 'check.step.intervalProof', params };
  const path = iv.auditPath;
  if (!Array.isArray(path) || !path.every((p) => isHex(p, 32)))
    return fail(result, 'check.fail.intervalProof', { message: 'audit path entries must be 32-byte hex' }, step);
  let root: string;
  try {
    const record = windowRecordBytes({
      shard,
      windowIndex: w.index,
      firstSeq: w.firstSeq,
      count: w.count,
      root: windowRoot,
    });
    const pathBytes = path.map((p) => hexToBytes(p));
    root = bytesToHex(rootFromInclusionProof(record, iv.recordIndex, windowCount, pathBytes));
  } catch (err) {
    if (err instanceof InclusionProofError || err instanceof RangeError)
      return fail(result, 'check.fail.intervalProof', { message: err.message }, step);
    throw err;
  }
  result.steps.push({ ...step, ok: true });
  return root;
}

/** Connects to the chain the input names; why not (a failed check's reason) when it cannot. */
async function openReader(
  input: CheckInput,
): Promise<ChainReader | { reason: Key; params: Record<string, string | number> }> {
  const anchor = input.bundle?.anchor;
  if (!input.rpcUrl) return { reason: 'check.fail.noRpc', params: {} };
  const contract = input.contract ?? anchor?.contract;
  if (!contract) return { reason: 'check.fail.noContract', params: {} };
  try {
    return await ChainReader.connect(input.rpcUrl, contract, input.chainId ?? anchor?.chainId ?? null);
  } catch (err) {
    return { reason: 'check.fail.chain', params: { message: (err as Error).message } };
  }
}

/** Connects to the chain the input names; a failed check when it cannot. */
async function connectReader(input: CheckInput, result: CheckResult): Promise<ChainReader | CheckResult> {
  const reader = await openReader(input);
  return reader instanceof ChainReader ? reader : fail(result, reader.reason, reader.params);
}

/** The anchoring transaction the server names is a mined call to that contract; false when it is not. */
async function checkAnchorTx(reader: ChainReader, bundle: ProofBundle, result: CheckResult): Promise<boolean> {
  const anchor = bundle.anchor!;
  const txHash = anchor.txHash;
  try {
    const tx = await reader.transaction(txHash);
    if (tx === null) {
      result.steps.push({ ok: null, key: 'check.txUnknown', params: { tx: txHash } });
    } else {
      const ok =
        tx.status === 1 &&
        tx.to !== null &&
        tx.to.toLowerCase() === reader.contractAddress.toLowerCase() &&
        (anchor.blockNumber == null || tx.blockNumber === anchor.blockNumber);
      const step: Step = { ok, key: 'check.step.tx', params: { tx: txHash, block: tx.blockNumber } };
      if (!ok) {
        fail(result, 'check.fail.tx', { tx: txHash }, step);
        return false;
      }
      result.steps.push(step);
    }
  } catch {
    result.steps.push({ ok: null, key: 'check.txUnknown', params: { tx: txHash } });
  }
  return true;
}

/**
 * 3–6 for an anchored ballot of a sharded election: the interval read from the chain, the window root
 * recomputed from the ballot hash (through a path computed from the shard window's tiles with `tilesBase`, the
 * server's window path then having to give the same root; else through the server's), the record's path to the
 * interval root in a tree of the chain's windowCount, compared with the chain's root (never the server's), then
 * the anchoring transaction.
 */
async function checkAnchoredInterval(
  input: CheckInput,
  result: CheckResult,
  receipt: Receipt,
  shard: number,
  rootFor: RootFor,
): Promise<CheckResult> {
  const bundle = input.bundle!;
  const w = bundle.window!;
  const iv = bundle.interval;
  if (!iv || !isUint(iv.index) || !isUint(iv.recordIndex))
    return fail(result, 'check.fail.noIntervalProof', { index: w.index });

  const reader = await connectReader(input, result);
  if (!(reader instanceof ChainReader)) return reader;
  try {
    let chainInterval: ChainInterval;
    try {
      chainInterval = await reader.getInterval(receipt.electionId, iv.index);
    } catch (err) {
      if (err instanceof ChainError && err.kind === 'no-interval')
        return fail(result, 'check.fail.noInterval', { index: iv.index });
      return fail(result, 'check.fail.chain', { message: (err as Error).message });
    }
    const intervalStep: Step = {
      ok: true,
      key: 'check.step.chainInterval',
      params: { index: iv.index, windows: chainInterval.windowCount, ballots: chainInterval.ballotCount },
    };
    if (chainInterval.windowCount !== iv.windowCount || chainInterval.ballotCount !== iv.ballotCount)
      return fail(result, 'check.fail.chainInterval', { index: iv.index }, { ...intervalStep, ok: false });
    result.steps.push(intervalStep);

    // 4. The window root from the ballot hash, the signed seq and the window's place: its audit path computed from
    // the shard window's tiles when the page reads them (the window's place is the bundle's, bound by the record
    // below), else the bundle's path.
    const inWindow = receipt.seq >= w.firstSeq && receipt.seq < w.firstSeq + w.count;
    const tiles = input.tilesBase && inWindow ? await tileProofFor(input, result, receipt, { ...w, shard }) : null;
    if (tiles instanceof TileError)
      result.steps.push({ ok: null, key: 'check.step.tilesUnread', params: { message: tiles.message } });
    else if (tiles && !('auditPath' in tiles)) return tiles;
    let windowRoot: string;
    if (tiles && 'auditPath' in tiles) {
      const leaf = hexToBytes(receipt.ballotHash);
      windowRoot = bytesToHex(rootFromInclusionProof(leaf, tiles.leafIndex, tiles.treeSize, tiles.auditPath));
    } else {
      const root = rootFor(w.firstSeq, w.count);
      if (typeof root !== 'string') return root;
      windowRoot = root;
    }

    // 5. The window's record up to the interval root, in a tree of the chain's windowCount, and the chain's root.
    const root = intervalRootFor(result, shard, w, windowRoot, iv, chainInterval.windowCount);
    if (typeof root !== 'string') return root;
    const rootParams = { index: w.index, shard, interval: iv.index };
    if (root !== chainInterval.root)
      return fail(result, 'check.fail.chainIntervalRoot', rootParams, {
        ok: false,
        key: 'check.step.chainIntervalRoot',
        params: rootParams,
      });
    result.steps.push({ ok: true, key: 'check.step.chainIntervalRoot', params: rootParams });

    // 5b. With the path from tiles, the server's own window proof must lead to the same (anchored) window root.
    if (tiles && 'auditPath' in tiles) {
      const served = rootFor(w.firstSeq, w.count);
      if (typeof served !== 'string') return served;
      const step: Step = { ok: served === windowRoot, key: 'check.step.bundleWindowRoot' };
      if (!step.ok) return fail(result, 'check.fail.bundleWindowRoot', { index: w.index, shard }, step);
      result.steps.push(step);
    }

    // 6. The anchoring transaction (the interval's anchorInterval).
    if (!(await checkAnchorTx(reader, bundle, result))) return result;
    result.outcome = { state: 'verified', chainInterval, chainId: reader.chainId, contract: reader.contractAddress };
    return result;
  } finally {
    reader.destroy();
  }
}
