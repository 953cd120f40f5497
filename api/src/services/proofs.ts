// The proof bundle of docs/protocol.md (GET /api/v1/receipts/{ballotHash}): the receipt, then the window, the
// RFC 6962 inclusion proof and the anchor once they exist. Window reads and audit paths are the ledger's
// (ledger/src/windows/proofs.ts): each proof reads the O(log n) tiles it needs from the ledger, in one query,
// so no replica ever rebuilds a window's tree and nothing is cached per process.
import {
  auditPathFor,
  electionShardCount,
  intervalInclusionFor,
  type LedgerClusters,
  type AnchoredWindowCache,
} from '../../../ledger/src/index.js';
import type { Receipt } from '../../../ledger/src/protocol/protocol.js';
import type { ChainInfo } from '../dependencies.js';

export type ProofStatus = 'pending' | 'sealed' | 'anchored';

export interface ProofBundle {
  receipt: Receipt;
  status: ProofStatus;
  window?: { shard?: number; index: number; firstSeq: number; count: number; root: string };
  inclusion?: { leafIndex: number; auditPath: string[] };
  /** A sharded election's window (docs/protocol.md 13.4): its record's place in its anchor interval. */
  interval?: {
    index: number;
    windowCount: number;
    ballotCount: number;
    root: string;
    recordIndex: number;
    auditPath: string[];
  };
  anchor?: { chainId: number | null; contract: string | null; txHash: string; blockNumber: number };
}

export async function proofBundle(
  clusters: LedgerClusters,
  chain: ChainInfo,
  receipt: Receipt,
  windows?: AnchoredWindowCache,
): Promise<ProofBundle> {
  const sharded = receipt.shard !== undefined;
  // The shard's cluster: the receipt names the shard, the election's record its shard count.
  const shards = sharded ? await electionShardCount(clusters.home, receipt.electionId) : 1;
  const sql = clusters.sqlFor(receipt.shard ?? 0, shards);
  const proof = await auditPathFor(sql, receipt.electionId, receipt.seq, {
    shard: receipt.shard ?? 0,
    ...(windows ? { windows } : {}),
  });
  if (!proof) return { receipt, status: 'pending' };
  const w = proof.window;
  const window = { index: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root };
  const bundle: ProofBundle = {
    receipt,
    status: w.anchor ? 'anchored' : 'sealed',
    window: sharded ? { shard: w.shard, ...window } : window,
    inclusion: { leafIndex: proof.leafIndex, auditPath: proof.auditPath },
  };
  if (sharded) {
    const inInterval = await intervalInclusionFor(clusters.home, w);
    if (inInterval) {
      const { interval: i, recordIndex, auditPath } = inInterval;
      bundle.interval = {
        index: i.index,
        windowCount: i.windowCount,
        ballotCount: i.ballotCount,
        root: i.root,
        recordIndex,
        auditPath,
      };
    }
  }
  if (w.anchor)
    bundle.anchor = {
      chainId: chain.chainId,
      contract: chain.contract,
      txHash: w.anchor.txHash,
      blockNumber: w.anchor.blockNumber,
    };
  return bundle;
}
