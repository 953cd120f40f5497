// "Check my receipt": the checks of protocol.md section 8, in order, each one a step the page shows.
// The root that counts is the one read from the chain, never the one the server reports.
import { ChainError, ChainReader, type ChainWindow } from './chain.js';
import type { Key } from './i18n.js';
import {
  InclusionProofError,
  bytesToHex,
  hexToBytes,
  isHex,
  isReceipt,
  jcs,
  rootFromInclusionProof,
  verifyReceiptSignature,
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

  if (bundle.status === 'pending' || !bundle.window || !bundle.inclusion) {
    result.outcome = { state: 'pending' };
    return result;
  }

  const w = bundle.window;
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
    result.outcome = { state: 'sealed' };
    return result;
  }

  // 3 (anchored). Read the window from the chain itself.
  if (!input.rpcUrl) return fail(result, 'check.fail.noRpc');
  const contract = input.contract ?? bundle.anchor.contract;
  if (!contract) return fail(result, 'check.fail.noContract');
  let reader: ChainReader;
  let chainWindow: ChainWindow;
  try {
    reader = await ChainReader.connect(input.rpcUrl, contract, input.chainId ?? bundle.anchor.chainId ?? null);
  } catch (err) {
    return fail(result, 'check.fail.chain', { message: (err as Error).message });
  }
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
    const txHash = bundle.anchor.txHash;
    try {
      const tx = await reader.transaction(txHash);
      if (tx === null) {
        result.steps.push({ ok: null, key: 'check.txUnknown', params: { tx: txHash } });
      } else {
        const ok =
          tx.status === 1 &&
          tx.to !== null &&
          tx.to.toLowerCase() === reader.contractAddress.toLowerCase() &&
          (bundle.anchor.blockNumber == null || tx.blockNumber === bundle.anchor.blockNumber);
        const step: Step = { ok, key: 'check.step.tx', params: { tx: txHash, block: tx.blockNumber } };
        if (!ok) return fail(result, 'check.fail.tx', { tx: txHash }, step);
        result.steps.push(step);
      }
    } catch (err) {
      result.steps.push({ ok: null, key: 'check.txUnknown', params: { tx: txHash } });
      void err;
    }
    result.outcome = { state: 'verified', chainWindow, chainId: reader.chainId, contract: reader.contractAddress };
    return result;
  } finally {
    reader.destroy();
  }
}
