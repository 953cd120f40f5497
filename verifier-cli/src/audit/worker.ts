// A check worker: receives blocks of ledger lines as bytes (or batches of roll keys, or a tree to hash), answers with their results in
// order (a block's rows packed in transferred typed arrays). Started by pool.ts through worker-boot.mjs; workerData carries the RowContext.
import { parentPort, workerData } from 'node:worker_threads';
import { merkleTreeHeadPacked } from '../merkle.js';
import { rollPointProblem } from '../roll.js';
import { checkLedgerBlockPacked, packedTransferList, type PackedRows, type RowContext } from './row-check.js';

export type BatchRequest =
  | { kind: 'rows'; batch: number; firstLine: number; bytes: Uint8Array }
  | { kind: 'keys'; batch: number; keys: string[] }
  | { kind: 'tree-head'; batch: number; packedLeaves: Uint8Array };

export interface BatchReply {
  batch: number;
  rows?: PackedRows;
  keyProblems?: string[];
  treeHead?: Uint8Array;
  error?: string;
}

const { context } = workerData as { entry: string; context: RowContext };
const port = parentPort;
if (port === null) throw new Error('worker.ts must run in a worker thread');

port.on('message', (req: BatchRequest) => {
  try {
    if (req.kind === 'rows') {
      const rows = checkLedgerBlockPacked(req.bytes, req.firstLine, context);
      port.postMessage({ batch: req.batch, rows } satisfies BatchReply, packedTransferList(rows));
    } else if (req.kind === 'keys') {
      const keyProblems = req.keys.map(rollPointProblem).filter((p): p is string => p !== null);
      port.postMessage({ batch: req.batch, keyProblems } satisfies BatchReply);
    } else {
      port.postMessage({ batch: req.batch, treeHead: merkleTreeHeadPacked(req.packedLeaves) } satisfies BatchReply);
    }
  } catch (err) {
    port.postMessage({ batch: req.batch, error: (err as Error).stack ?? String(err) } satisfies BatchReply);
  }
});
port.postMessage({ batch: -1 } satisfies BatchReply); // ready
