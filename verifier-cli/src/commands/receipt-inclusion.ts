// Step 4 of `receipt` (receipt.ts) for a ballot the server says is anchored: the bundle's window against
// the chain's (range, root, contract), seq = firstSeq + leafIndex, then the audit path from ballotHash to
// the chain's root, checked twice: by this tool's own RFC 9162 code and by the contract's verifyInclusion.
// Last, whether the anchor came after the receipt's promise.
import { range } from '../audit/seq.js';
import type { ChainReader } from '../chain.js';
import { finding } from '../errors.js';
import { fromHex, isHex, short, toHex } from '../hex.js';
import { InclusionProofError, rootFromInclusionProof } from '../merkle.js';
import { ANCHOR_GRACE_SECONDS, isPlainObject, type Manifest, type Receipt } from '../protocol.js';
import type { ReceiptReport } from './receipt.js';
import { counted } from '../plural.js';

/** Step 4 for an anchored ballot: window against the chain, then the audit path, twice. */
export async function checkInclusion(
  out: ReceiptReport,
  bundle: Record<string, unknown>,
  receipt: Receipt,
  manifest: Manifest,
  chain: ChainReader,
  electionId: string,
): Promise<void> {
  const seq = receipt.seq;
  const claimed = bundle.window;
  const inclusion = bundle.inclusion;
  if (!isPlainObject(claimed) || !isPlainObject(inclusion)) {
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `seq ${seq} is said to be anchored but the bundle has no window or inclusion proof`,
        { seq },
      ),
    );
    return;
  }
  const index = claimed.index;
  const leafIndex = inclusion.leafIndex;
  const path = inclusion.auditPath;
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    out.findings.push(
      finding('inclusion-proof-invalid', `seq ${seq}: the bundle's window index is not a non-negative integer`, {
        seq,
      }),
    );
    return;
  }
  const count = await chain.windowCount(electionId);
  if (index >= count) {
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `seq ${seq}: the bundle names window ${index}, but the chain has ${counted(count, 'window')}`,
        { seq, window: index },
      ),
    );
    return;
  }
  const w = await chain.window(electionId, index);
  out.window = w;
  const where = { seq, window: index };
  if (claimed.firstSeq !== w.firstSeq || claimed.count !== w.count) {
    out.findings.push(
      finding(
        'window-range-mismatch',
        `window ${index}: the bundle says firstSeq ${String(claimed.firstSeq)}, count ${String(claimed.count)}; ` +
          `the chain says ${w.firstSeq}, ${w.count}`,
        where,
      ),
    );
  }
  if (claimed.root !== w.root) {
    out.findings.push(
      finding(
        'window-root-mismatch',
        `window ${index}: the bundle's root ${short(String(claimed.root))} is not the chain's ${short(w.root)}`,
        where,
      ),
    );
  }
  if (
    isPlainObject(bundle.anchor) &&
    typeof bundle.anchor.contract === 'string' &&
    bundle.anchor.contract.toLowerCase() !== chain.address.toLowerCase()
  ) {
    out.findings.push(
      finding(
        'chain-mismatch',
        `the bundle names contract ${bundle.anchor.contract}, the check reads ${chain.address}`,
        where,
        'warning',
      ),
    );
  }
  if (
    typeof leafIndex !== 'number' ||
    !Number.isSafeInteger(leafIndex) ||
    !Array.isArray(path) ||
    !path.every((p) => isHex(p, 32))
  ) {
    out.findings.push(
      finding('inclusion-proof-invalid', `seq ${seq}: the bundle's inclusion proof is malformed`, where),
    );
    return;
  }
  out.leafIndex = leafIndex;
  if (w.firstSeq + leafIndex !== seq) {
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `seq ${seq}: leaf ${leafIndex} of window ${index} (${range(w.firstSeq, w.firstSeq + w.count - 1)}) is ` +
          `seq ${w.firstSeq + leafIndex}`,
        where,
      ),
    );
    return;
  }
  const auditPath = path as string[];
  let ownOk = false;
  try {
    ownOk =
      toHex(
        rootFromInclusionProof(fromHex(receipt.ballotHash), {
          leafIndex,
          treeSize: w.count,
          auditPath: auditPath.map(fromHex),
        }),
      ) === w.root;
  } catch (err) {
    if (!(err instanceof InclusionProofError)) throw err;
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `seq ${seq}: the audit path is unusable for window ${index}: ${err.message}`,
        where,
      ),
    );
    return;
  }
  const contractOk = await chain.verifyInclusion(electionId, index, leafIndex, receipt.ballotHash, auditPath);
  if (!ownOk)
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `seq ${seq}: the audit path does not lead to window ${index}'s root on chain (${short(w.root)})`,
        where,
      ),
    );
  if (!contractOk)
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `seq ${seq}: the contract's verifyInclusion rejects the proof for window ${index}`,
        where,
      ),
    );
  if (ownOk && contractOk) {
    out.passed.push(
      `ballot ${short(receipt.ballotHash)} is leaf ${leafIndex} of window ${index} ` +
        `(${range(w.firstSeq, w.firstSeq + w.count - 1)}), root ${short(w.root)} on chain, checked by this tool ` +
        `and by the contract`,
    );
  }
  const promisedBy = Date.parse(receipt.receivedAt) + (manifest.windowSeconds + ANCHOR_GRACE_SECONDS) * 1000;
  if (w.anchoredAt * 1000 > promisedBy + 1000) {
    out.findings.push(
      finding(
        'late-anchor',
        `window ${index} was anchored at ${new Date(w.anchoredAt * 1000).toISOString()}, after the receipt's ` +
          `promise (${new Date(promisedBy).toISOString()})`,
        where,
        'warning',
      ),
    );
  }
}
