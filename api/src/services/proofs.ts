// The proof bundle of docs/protocol.md (GET /api/v1/receipts/{ballotHash}): the receipt, then the window, the
// RFC 6962 inclusion proof and the anchor once they exist. Window reads and audit paths are the ledger's
// (ledger/src/windows/tiles.ts): the ballot, its window and its level-0 tile are read in one query, the tiles
// above level 0 kept per process with their subtree hashes, so no replica ever rebuilds a window's tree.
import {
  intervalInclusionFor,
  windowInclusionPath,
  type FoundReceipt,
  type LedgerClusters,
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

/**
 * The bundle of a ballot found by receiptLookupOnClusters: its receipt, window and level-0 tile come from that
 * one query, the tiles above level 0 from the process's SharedTileCache, the interval (a sharded election)
 * from the home cluster.
 */
export async function proofBundle(
  clusters: LedgerClusters,
  chain: ChainInfo,
  found: FoundReceipt,
): Promise<ProofBundle> {
  const { receipt, window: w, leafTile, sql } = found;
  const sharded = receipt.shard !== undefined;
  if (!w) return { receipt, status: 'pending' };
  const leafIndex = receipt.seq - w.firstSeq;
  const proof = { leafIndex, auditPath: await windowInclusionPath(sql, w, leafIndex, { leafTile }) };
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
