// A check worker (pool.ts): a block of ledger lines as bytes (or a batch of roll keys, or a tree to hash)
// in, its results out (a block's rows packed in transferred typed arrays). workerData carries the
// RowContext, and `testFaults`, which only tests set.
import { workerData } from 'node:worker_threads';
import { dieMidTask, testFaultIn, testFaultsOn } from '../../../worker-pool/src/test-faults.js';
import { transfer } from '../../../worker-pool/src/transfer.js';
import { merkleTreeHeadPacked } from '../merkle.js';
import { rollPointProblem } from '../roll.js';
import { packedTransferList, type PackedRows } from './packed-rows.js';
import { checkLedgerBlockPacked, type RowContext } from './row-check.js';

export type BatchRequest =
  | { kind: 'rows'; firstLine: number; bytes: Uint8Array }
  | { kind: 'keys'; keys: string[] }
  | { kind: 'tree-head'; packedLeaves: Uint8Array };

export interface BatchReply {
  rows?: PackedRows;
  keyProblems?: string[];
  treeHead?: Uint8Array;
}

export interface CheckWorkerData {
  context: RowContext;
  testFaults?: boolean;
  /** sodium-native's entry (v2/group.ts loads it from there when the worker runs from a bundle). */
  sodiumNative?: string;
}

const { context } = workerData as CheckWorkerData;
const testFaults = testFaultsOn(workerData);

export default function handle(req: BatchRequest): BatchReply | Promise<never> {
  if (req.kind === 'rows') {
    const fault = testFaults ? testFaultIn(req.bytes) : null;
    if (fault !== null) return dieMidTask(fault);
    const rows = checkLedgerBlockPacked(req.bytes, req.firstLine, context);
    return transfer({ rows }, packedTransferList(rows));
  }
  if (req.kind === 'keys') {
    return { keyProblems: req.keys.map(rollPointProblem).filter((p): p is string => p !== null) };
  }
  return { treeHead: merkleTreeHeadPacked(req.packedLeaves) }; // 32 bytes: copied
}
