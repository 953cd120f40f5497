// "Check my receipt": the checks of protocol.md section 8, in order, each one a step the page shows; for an
// election split into shards (section 13) the proof has two levels, ballot to window root, then the window's
// record to its anchor interval's root. The root that counts is the one read from the chain, never the one
// the server reports.
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
  bundle: ProofBundle;
  steps: Step[];
  outcome: Outcome;
}

export interface CheckInput {
  /** The receipt hash asked for. */
  ballotHash: string;
  bundle: ProofBundle;
  manifest: Manifest;
  /** The chain the election says it is on; the node must be that chain. */
  chainId: number | null;
  rpcUrl: string | null;
  contract: string | null;
  /** The receipt the voter kept (file), compared byte for byte (JCS) with the one served. */
  receiptFile?: Receipt | null;
  /** The ballot's credential (hex) when the page knows it: a sharded receipt's shard is checked against it. */
  credential?: string | null;
}

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
  const { bundle, manifest } = input;
  const result: CheckResult = { bundle, steps: [], outcome: { state: 'pending' } };
  const receipt = bundle?.receipt;

  // 1. The server answered for the receipt asked about, and (when the voter has it) the same receipt.
  if (!isReceipt(receipt) || receipt.ballotHash !== input.ballotHash) return fail(result, 'check.fail.hash');
  if (input.receiptFile) {
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
  const path = bundle.inclusion.auditPath;
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

  /** Root from the signed seq and a window's firstSeq/count; the proof step is recorded once. */
  const rootFor = (firstSeq: number, count: number): string | Error => {
    const leafIndex = receipt.seq - firstSeq;
    try {
      if (bundle.inclusion!.leafIndex !== leafIndex)
        throw new InclusionProofError(
          `leafIndex ${bundle.inclusion!.leafIndex} is not seq ${receipt.seq} − firstSeq ${firstSeq}`,
        );
      return bytesToHex(rootFromInclusionProof(leaf, leafIndex, count, pathBytes));
    } catch (err) {
      if (err instanceof InclusionProofError) return err;
      throw err;
    }
  };

  if (bundle.status !== 'anchored' || !bundle.anchor) {
    // 3 (sealed). Only the server's root exists yet: consistent so far, not yet verifiable on chain.
    const root = rootFor(w.firstSeq, w.count);
    if (root instanceof Error)
      return fail(
        result,
        'check.fail.proof',
        { message: root.message },
        { ok: false, key: 'check.step.proof', params: { leaf: receipt.seq - w.firstSeq, count: w.count } },
      );
    result.steps.push({
      ok: true,
      key: 'check.step.proof',
      params: { leaf: receipt.seq - w.firstSeq, count: w.count },
    });
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
    const proofParams = { leaf: receipt.seq - chainWindow.firstSeq, count: chainWindow.count };
    const root = rootFor(chainWindow.firstSeq, chainWindow.count);
    if (root instanceof Error)
      return fail(
        result,
        'check.fail.proof',
        { message: root.message },
        { ok: false, key: 'check.step.proof', params: proofParams },
      );
    result.steps.push({ ok: true, key: 'check.step.proof', params: proofParams });
    if (root !== chainWindow.root)
      return fail(result, 'check.fail.chainRoot', { index: w.index }, { ok: false, key: 'check.step.chainRoot' });
    result.steps.push({ ok: true, key: 'check.step.chainRoot' });

    // 5. The anchoring transaction the server names is a mined call to that contract.
    if (!(await checkAnchorTx(reader, bundle, result))) return result;
    result.outcome = { state: 'verified', chainWindow, chainId: reader.chainId, contract: reader.contractAddress };
    return result;
  } finally {
    reader.destroy();
  }
}

/** Window root from the signed seq and the window's firstSeq/count: its hex, or why the proof is wrong. */
type RootFor = (firstSeq: number, count: number) => string | Error;

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

/** Connects to the chain the input names; a failed check when it cannot. */
async function connectReader(input: CheckInput, result: CheckResult): Promise<ChainReader | CheckResult> {
  const anchor = input.bundle.anchor!;
  if (!input.rpcUrl) return fail(result, 'check.fail.noRpc');
  const contract = input.contract ?? anchor.contract;
  if (!contract) return fail(result, 'check.fail.noContract');
  try {
    return await ChainReader.connect(input.rpcUrl, contract, input.chainId ?? anchor.chainId ?? null);
  } catch (err) {
    return fail(result, 'check.fail.chain', { message: (err as Error).message });
  }
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
 * recomputed from the ballot hash, the record's path to the interval root in a tree of the chain's
 * windowCount, compared with the chain's root (never the server's), then the anchoring transaction.
 */
async function checkAnchoredInterval(
  input: CheckInput,
  result: CheckResult,
  receipt: Receipt,
  shard: number,
  rootFor: RootFor,
): Promise<CheckResult> {
  const bundle = input.bundle;
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

    // 4. The window root from the ballot hash, the signed seq and the window's place.
    const proofParams = { leaf: receipt.seq - w.firstSeq, count: w.count };
    const windowRoot = rootFor(w.firstSeq, w.count);
    if (windowRoot instanceof Error)
      return fail(
        result,
        'check.fail.proof',
        { message: windowRoot.message },
        { ok: false, key: 'check.step.proof', params: proofParams },
      );
    result.steps.push({ ok: true, key: 'check.step.proof', params: proofParams });

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

    // 6. The anchoring transaction (the interval's anchorInterval).
    if (!(await checkAnchorTx(reader, bundle, result))) return result;
    result.outcome = { state: 'verified', chainInterval, chainId: reader.chainId, contract: reader.contractAddress };
    return result;
  } finally {
    reader.destroy();
  }
}
