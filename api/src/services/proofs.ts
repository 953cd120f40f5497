// The proof bundle of docs/protocol.md (GET /api/v1/receipts/{ballotHash}): the receipt, then the window, the
// RFC 6962 inclusion proof and the anchor once they exist. Window reads and audit paths are the ledger's
// (ledger/src/windows/proofs.ts); each app keeps its own tree cache, so a window's tree is built once and
// each receipt lookup after that is O(log n).
import type { Sql } from 'postgres';
import { auditPathFor, type WindowTreeCache } from '../../../ledger/src/index.js';
import type { Receipt } from '../../../ledger/src/protocol/protocol.js';
import type { ChainInfo } from '../dependencies.js';

export type ProofStatus = 'pending' | 'sealed' | 'anchored';

export interface ProofBundle {
  receipt: Receipt;
  status: ProofStatus;
  window?: { index: number; firstSeq: number; count: number; root: string };
  inclusion?: { leafIndex: number; auditPath: string[] };
  anchor?: { chainId: number | null; contract: string | null; txHash: string; blockNumber: number };
}

export async function proofBundle(
  sql: Sql,
  trees: WindowTreeCache,
  chain: ChainInfo,
  receipt: Receipt,
): Promise<ProofBundle> {
  const proof = await auditPathFor(sql, receipt.electionId, receipt.seq, { cache: trees });
  if (!proof) return { receipt, status: 'pending' };
  const w = proof.window;
  const bundle: ProofBundle = {
    receipt,
    status: w.anchor ? 'anchored' : 'sealed',
    window: { index: w.index, firstSeq: w.firstSeq, count: w.count, root: w.root },
    inclusion: { leafIndex: proof.leafIndex, auditPath: proof.auditPath },
  };
  if (w.anchor)
    bundle.anchor = {
      chainId: chain.chainId,
      contract: chain.contract,
      txHash: w.anchor.txHash,
      blockNumber: w.anchor.blockNumber,
    };
  return bundle;
}
