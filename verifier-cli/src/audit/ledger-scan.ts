// Step 4 of the audit (audit.ts): the ledger, streamed in blocks of whole lines. The blocks go to the
// row-check pool (per row, in parallel: canonical form, manifest rules, ballotHash, signature); their
// results come back in order, and here, per row in order: seq, roll, one ballot per credential and per
// hash, window membership, anchoring on time, the recount. The loop over a block's rows is the main
// thread's hot path.
import type { ChainWindow } from '../chain.js';
import { finding, type Finding } from '../errors.js';
import { short } from '../hex.js';
import { ANCHOR_GRACE_SECONDS, type Manifest } from '../protocol.js';
import type { Roll } from '../roll.js';
import { ledgerBlocks } from '../sources/ledger-blocks.js';
import type { AuditOptions } from './audit.js';
import { ROW_COUNTABLE, ROW_HAS_CREDENTIAL, ROW_SIGNATURE_VALID, type PackedRows } from './packed-rows.js';
import type { RowCheckPool } from './pool.js';
import { range, SeqTracker } from './seq.js';
import type { Recount } from './tally.js';
import type { AggregateSum } from '../v2/aggregate.js';
import { WindowChecker } from './windows.js';
import { counted } from '../plural.js';

/** Bytes of whole lines per block handed to a worker (about 300 rows). */
const BLOCK_BYTES = 128 * 1024;
/** Blocks in flight per thread: enough to keep workers busy, few enough to bound memory (2 MB of lines per thread). */
const BLOCKS_PER_THREAD = 16;
/**
 * How many times as many blocks may be in flight while the roll and the windows are still being read
 * at the start (rows are consumed only once they are): the workers keep verifying meanwhile.
 */
const EARLY_BLOCKS_FACTOR = 4;

/** What the in-order checks need besides the rows; prepared while the first blocks are checked. */
export interface ScanInputs {
  roll: Roll;
  /** The roll's tree head, being hashed on a worker. */
  rollRoot: Promise<Uint8Array>;
  windows: readonly ChainWindow[];
  published: unknown | null;
  recount: Recount;
  /** An encrypted election: the sum of the countable ballots' ciphertexts (v2/aggregate.ts). */
  aggregate?: AggregateSum;
}

export interface ScanState {
  inputs: ScanInputs;
  seq: SeqTracker;
  windows: WindowChecker;
  late: Finding[];
  /**
   * Per roll key (by its index in roll.keys): 1 when a signature by it verified, which proves it decodes
   * to a curve point.
   */
  verifiedRollKeys: Uint8Array;
}

/** Step 4: stream the ledger through the pool, then the in-order checks on each result. */
export async function scanLedger(
  opts: AuditOptions,
  pool: RowCheckPool,
  manifest: Manifest,
  prepared: Promise<ScanInputs>,
  report: (f: Finding | null) => void,
  expectedRows: number,
): Promise<ScanState> {
  const seq = new SeqTracker();
  /** Leaf (32 bytes as a latin1 string) → the seq of its first row. */
  const hashes = new Map<string, number>();
  /** Credentials not on the roll → the seq of their first ballot (roll keys: firstSeqByRollKey). */
  const offRollCredentials = new Map<string, number>();
  const promiseMs = (manifest.windowSeconds + ANCHOR_GRACE_SECONDS) * 1000;
  const late = new Map<number, { count: number; firstSeq: number }>();
  let inputs: ScanInputs | undefined;
  let checker: WindowChecker | undefined;
  /** Per roll key (by its index in roll.keys): the seq of its first ballot, -1 before it. */
  let firstSeqByRollKey = new Float64Array(0);
  let verifiedRollKeys = new Uint8Array(0);

  const consume = async (rows: PackedRows | undefined): Promise<void> => {
    if (inputs === undefined) {
      inputs = await prepared;
      checker = new WindowChecker(inputs.windows);
      firstSeqByRollKey = new Float64Array(inputs.roll.keys.size).fill(-1);
      verifiedRollKeys = new Uint8Array(inputs.roll.keys.size);
    }
    if (rows === undefined) return;
    const { roll, recount, aggregate } = inputs;
    aggregate?.addBlock(rows);
    const windows = checker!;
    const leaves = Buffer.from(rows.leaves.buffer, rows.leaves.byteOffset, rows.leaves.byteLength);
    const credentials = Buffer.from(rows.credentials.buffer, rows.credentials.byteOffset, rows.credentials.byteLength);
    const problems = rows.problems;
    let p = 0;
    for (let i = 0; i < rows.count; i++) {
      const rowSeq = rows.seqs[i]!;
      for (; p < problems.length && problems[p]!.row === i; p++)
        report(finding(problems[p]!.code, problems[p]!.message, rowSeq >= 0 ? { seq: rowSeq } : {}));
      if (rowSeq < 0) continue;
      const flags = rows.flags[i]!;
      const credential = (flags & ROW_HAS_CREDENTIAL) !== 0 ? credentials.toString('hex', 32 * i, 32 * i + 32) : '';
      const rollKey = credential === '' ? undefined : roll.keys.get(credential);
      if ((flags & ROW_SIGNATURE_VALID) !== 0 && rollKey !== undefined) verifiedRollKeys[rollKey] = 1;
      report(seq.observe(rowSeq));
      let countable = (flags & ROW_COUNTABLE) !== 0;
      if (credential !== '' && rollKey === undefined) {
        report(
          finding('not-on-roll', `seq ${rowSeq}: credential ${short(credential)} is not on the roll`, { seq: rowSeq }),
        );
        countable = false;
      }
      const leafKey = leaves.toString('latin1', 32 * i, 32 * i + 32);
      const sameHash = hashes.get(leafKey);
      if (sameHash !== undefined) {
        report(
          finding(
            'duplicate-hash',
            `seq ${rowSeq}: ballot hash ${short(leaves.toString('hex', 32 * i, 32 * i + 32))} already at seq ` +
              `${sameHash}`,
            { seq: rowSeq },
          ),
        );
        countable = false;
      } else {
        hashes.set(leafKey, rowSeq);
        if (credential !== '') {
          const sameCredential =
            rollKey === undefined
              ? offRollCredentials.get(credential)
              : firstSeqByRollKey[rollKey]! >= 0
                ? firstSeqByRollKey[rollKey]
                : undefined;
          if (sameCredential !== undefined) {
            report(
              finding(
                'duplicate-credential',
                `seq ${rowSeq}: a second ballot of credential ${short(credential)}, whose ballot is at seq ` +
                  `${sameCredential}`,
                { seq: rowSeq },
              ),
            );
            countable = false;
          } else if (rollKey === undefined) {
            offRollCredentials.set(credential, rowSeq);
          } else {
            firstSeqByRollKey[rollKey] = rowSeq;
          }
        }
      }
      const w = windows.windowOf(rowSeq);
      windows.add(rowSeq, rows.leaves, 32 * i, w);
      if (w !== undefined && w.anchoredAt * 1000 > rows.receivedAtMs[i]! + promiseMs + 1000) {
        const entry = late.get(w.index);
        if (entry === undefined) late.set(w.index, { count: 1, firstSeq: rowSeq });
        else entry.count++;
      }
      if (countable) recount.add(rowSeq, rows.choices, rows.choiceStarts[i]!, rows.choiceStarts[i + 1]!);
      else if (aggregate !== undefined && (flags & ROW_COUNTABLE) !== 0) aggregate.exclude(rows, i);
    }
  };

  const bytes = await opts.source.ledgerBytes();
  opts.progress?.start(bytes ?? expectedRows, bytes === undefined ? 'ballots' : 'bytes');
  let progressed = 0;
  const onBytes =
    bytes === undefined
      ? undefined
      : (n: number) => {
          progressed += n;
          opts.progress?.update(progressed);
        };
  const inFlight: Promise<PackedRows>[] = [];
  const maxInFlight = Math.max(1, pool.threads) * BLOCKS_PER_THREAD;
  // Until the roll and the windows are in, results cannot be consumed: let more blocks go out meanwhile.
  let ready = false;
  prepared.then(() => (ready = true)).catch(() => undefined);
  const maxInFlightEarly = maxInFlight * EARLY_BLOCKS_FACTOR;
  let nextLine = 1;
  try {
    for await (const block of ledgerBlocks(opts.source.ledgerChunks(), BLOCK_BYTES, onBytes)) {
      inFlight.push(pool.check(block.bytes, nextLine));
      nextLine += block.lines;
      while (inFlight.length >= (ready ? maxInFlight : maxInFlightEarly)) {
        await consume(await inFlight.shift()!);
        if (bytes === undefined) opts.progress?.update(seq.rows);
      }
    }
    for (const pending of inFlight) await consume(await pending);
    await consume(undefined); // an empty ledger still needs its inputs
  } finally {
    opts.progress?.stop();
  }

  const lateFindings = [...late.entries()].map(([index, { count, firstSeq }]) =>
    finding(
      'late-anchor',
      `window ${index}: ${counted(count, 'ballot')} (first ${range(firstSeq, firstSeq)}) ${count === 1 ? 'was' : 'were'} anchored later than ` +
        `receivedAt + ${manifest.windowSeconds + ANCHOR_GRACE_SECONDS} s`,
      { window: index, seq: firstSeq },
      'warning',
    ),
  );
  return { inputs: inputs!, seq, windows: checker!, late: lateFindings, verifiedRollKeys };
}
