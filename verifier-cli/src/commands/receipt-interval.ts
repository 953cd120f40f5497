// Step 4 of `receipt` (receipt.ts) in an election of several shards (docs/protocol.md 13.3, 13.4): the ballot's
// window is in an anchor interval, and its inclusion has two levels. The bundle's interval is compared with
// the chain's getInterval (never taken from the server); seq = firstSeq + leafIndex in the receipt's shard;
// then, with this tool's RFC 9162 code, the ballot's path leads to the window's root and the window's 60-byte
// record's path leads to the interval root read from the chain; and the contract's verifyIntervalInclusion
// says the same. Last, whether the interval was anchored after the receipt's promise.
import { range } from '../audit/seq.js';
import type { ChainReader } from '../chain.js';
import { finding, type FindingPlace } from '../errors.js';
import { fromHex, isHex, short, toHex } from '../hex.js';
import { InclusionProofError, rootFromInclusionProof } from '../merkle.js';
import { counted } from '../plural.js';
import { ANCHOR_GRACE_SECONDS, isPlainObject, type Manifest, type Receipt } from '../protocol.js';
import { windowRecordBytes, type WindowRecord } from '../shards.js';
import type { ReceiptReport } from './receipt.js';

/** "seq 4", or "seq 4 of shard 2" for a receipt that names its shard. */
export function seqText(receipt: { seq: number; shard?: number | undefined }): string {
  return receipt.shard === undefined ? `seq ${receipt.seq}` : `seq ${receipt.seq} of shard ${receipt.shard}`;
}

/** Why a receipt does not fit an election of `shards` shards (a shard exactly when S > 1, and below S), or null. */
export function receiptShardProblem(receipt: Receipt, shards: number): string | null {
  if (shards === 1)
    return receipt.shard === undefined
      ? null
      : `the receipt names shard ${receipt.shard}, but the election has one shard (its receipts name none)`;
  if (receipt.shard === undefined)
    return `the receipt names no shard, but the election has ${shards} shards (each receipt names its own)`;
  return receipt.shard < shards ? null : `the receipt names shard ${receipt.shard} of an election of ${shards} shards`;
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPath = (v: unknown): v is string[] => Array.isArray(v) && v.every((p) => isHex(p, 32));

/** Step 4 for an anchored ballot of an election of several shards. */
export async function checkIntervalInclusion(
  out: ReceiptReport,
  bundle: Record<string, unknown>,
  receipt: Receipt,
  manifest: Manifest,
  chain: ChainReader,
  electionId: string,
): Promise<void> {
  const seq = receipt.seq;
  const at = seqText(receipt);
  const fail = (message: string, where: FindingPlace = {}): void => {
    out.findings.push(finding('inclusion-proof-invalid', message, { shard: receipt.shard, seq, ...where }));
  };
  const { window: w, inclusion, interval: i } = bundle;
  if (!isPlainObject(w) || !isPlainObject(inclusion) || !isPlainObject(i)) {
    fail(`${at} is said to be anchored but the bundle lacks its window, inclusion proof or interval`);
    return;
  }
  if (
    !isIndex(w.shard) ||
    !isIndex(w.index) ||
    !isIndex(w.firstSeq) ||
    !isIndex(w.count) ||
    w.count < 1 ||
    !isHex(w.root, 32) ||
    !isIndex(inclusion.leafIndex) ||
    !isPath(inclusion.auditPath) ||
    !isIndex(i.index) ||
    !isIndex(i.recordIndex) ||
    !isPath(i.auditPath)
  ) {
    fail(`${at}: the bundle's window, inclusion proof or interval is malformed`);
    return;
  }
  const record: WindowRecord = {
    shard: w.shard,
    windowIndex: w.index,
    firstSeq: w.firstSeq,
    count: w.count,
    root: w.root,
  };
  const where = { shard: record.shard, window: record.windowIndex, interval: i.index };
  if (record.shard !== receipt.shard) {
    fail(`${at}: the bundle's window is of shard ${record.shard}`, where);
    return;
  }
  const intervals = await chain.intervalCount(electionId);
  if (i.index >= intervals) {
    fail(`${at}: the bundle names interval ${i.index}, but the chain has ${counted(intervals, 'interval')}`, where);
    return;
  }
  // The interval as the chain has it; the bundle's own figures are only claims.
  const anchored = await chain.interval(electionId, i.index);
  out.interval = anchored;
  out.shardWindow = {
    shard: record.shard,
    index: record.windowIndex,
    firstSeq: w.firstSeq,
    count: w.count,
    root: w.root,
  };
  out.recordIndex = i.recordIndex;
  out.leafIndex = inclusion.leafIndex;
  const claims: string[] = [];
  if (i.root !== anchored.root) claims.push(`root ${short(String(i.root))} (the chain: ${short(anchored.root)})`);
  if (i.windowCount !== anchored.windowCount)
    claims.push(`windowCount ${String(i.windowCount)} (the chain: ${anchored.windowCount})`);
  if (i.ballotCount !== anchored.ballotCount)
    claims.push(`ballotCount ${String(i.ballotCount)} (the chain: ${anchored.ballotCount})`);
  if (claims.length > 0)
    out.findings.push(
      finding('interval-mismatch', `interval ${i.index}: the bundle says ${claims.join(', ')}`, {
        interval: i.index,
        shard: record.shard,
      }),
    );
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
  const lastSeq = record.firstSeq + record.count - 1;
  const leafIndex = inclusion.leafIndex;
  if (leafIndex >= record.count || record.firstSeq + leafIndex !== seq) {
    fail(
      `${at}: leaf ${leafIndex} of window ${record.windowIndex} of shard ${record.shard} ` +
        `(${range(record.firstSeq, lastSeq)}) is not seq ${seq}`,
      where,
    );
    return;
  }

  // Level 1: the ballot's path to the window root; level 2: the window record's path to the interval root.
  let windowOk = false;
  let intervalOk = false;
  try {
    const computed = rootFromInclusionProof(fromHex(receipt.ballotHash), {
      leafIndex,
      treeSize: record.count,
      auditPath: inclusion.auditPath.map(fromHex),
    });
    windowOk = toHex(computed) === record.root;
    const computedInterval = rootFromInclusionProof(windowRecordBytes(record), {
      leafIndex: i.recordIndex,
      treeSize: anchored.windowCount,
      auditPath: i.auditPath.map(fromHex),
    });
    intervalOk = toHex(computedInterval) === anchored.root;
  } catch (err) {
    if (!(err instanceof InclusionProofError)) throw err;
    fail(`${at}: the proof is unusable for window ${record.windowIndex} in interval ${i.index}: ${err.message}`, where);
    return;
  }
  const contractOk = await chain.verifyIntervalInclusion(electionId, {
    intervalIndex: i.index,
    recordIndex: i.recordIndex,
    shard: record.shard,
    windowIndex: record.windowIndex,
    firstSeq: record.firstSeq,
    count: record.count,
    windowRoot: record.root,
    intervalProof: i.auditPath,
    leafIndex,
    ballotHash: receipt.ballotHash,
    windowProof: inclusion.auditPath,
  });
  if (!windowOk)
    fail(
      `${at}: the ballot's audit path does not lead to the root ${short(record.root)} of window ` +
        `${record.windowIndex} of shard ${record.shard}`,
      where,
    );
  if (!intervalOk)
    fail(
      `${at}: the record of window ${record.windowIndex} of shard ${record.shard} does not lead to interval ` +
        `${i.index}'s root on chain (${short(anchored.root)}) at record ${i.recordIndex}`,
      where,
    );
  if (!contractOk)
    fail(`${at}: the contract's verifyIntervalInclusion rejects the proof for interval ${i.index}`, where);
  if (windowOk && intervalOk && contractOk) {
    out.passed.push(
      `ballot ${short(receipt.ballotHash)} is leaf ${leafIndex} of window ${record.windowIndex} of shard ` +
        `${record.shard} (${range(record.firstSeq, lastSeq)}), whose record ${i.recordIndex} is in interval ` +
        `${i.index}, root ${short(anchored.root)} on chain, checked by this tool and by the contract`,
    );
  }
  const promisedBy = Date.parse(receipt.receivedAt) + (manifest.windowSeconds + ANCHOR_GRACE_SECONDS) * 1000;
  if (anchored.anchoredAt * 1000 > promisedBy + 1000) {
    out.findings.push(
      finding(
        'late-anchor',
        `interval ${i.index} (window ${record.windowIndex} of shard ${record.shard}) was anchored at ` +
          `${new Date(anchored.anchoredAt * 1000).toISOString()}, after the receipt's promise ` +
          `(${new Date(promisedBy).toISOString()})`,
        where,
        'warning',
      ),
    );
  }
}
