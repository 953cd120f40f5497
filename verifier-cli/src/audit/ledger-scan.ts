// Step 4 of the audit (audit.ts): the ledger, streamed in blocks of whole lines. The blocks go to the
// row-check pool (per row, in parallel: canonical form, manifest rules, ballotHash, signature); their
// results come back in order, and here, per row in order: seq, roll, one ballot per credential and per
// hash, window membership, anchoring on time, the recount. The loop over a block's rows is the main
// thread's hot path. In an election of several shards, seqs and windows are per shard (each with its own
// tracker and window checker), and credentials and ballot hashes are unique across the election.
import type { ChainWindow } from '../chain.js';
import { finding, type Finding } from '../errors.js';
import { short } from '../hex.js';
import { ANCHOR_GRACE_SECONDS, shardCount, type Manifest } from '../protocol.js';
import type { Roll } from '../roll.js';
import { ledgerBlocks } from '../sources/ledger-blocks.js';
import type { AuditOptions } from './audit.js';
import { ROW_COUNTABLE, ROW_HAS_CREDENTIAL, ROW_SIGNATURE_VALID, type PackedRows } from './packed-rows.js';
import type { RowCheckPool } from './pool.js';
import { range, SeqTracker } from './seq.js';
import type { Recount } from './tally.js';
import type { AggregateSum } from '../v2/aggregate.js';
import { savedTilesOfElection, WindowChecker } from './windows.js';
import { openTileSource } from '../sources/tiles.js';
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

/**
 * Where a row is, as one number: shard · SHARD_STRIDE + seq (seq < 2^42 and shard < 1024 stay below 2^53). With
 * one shard it is the seq itself.
 */
const SHARD_STRIDE = 2 ** 42;
const placeOf = (shard: number, seq: number): number => shard * SHARD_STRIDE + seq;
const shardAt = (place: number): number => Math.floor(place / SHARD_STRIDE);
const seqAt = (place: number): number => place % SHARD_STRIDE;

/** What the in-order checks need besides the rows; prepared while the first blocks are checked. */
export interface ScanInputs {
  roll: Roll;
  /** The roll's tree head, being hashed on a worker. */
  rollRoot: Promise<Uint8Array>;
  /** Per shard (one entry for an election of one shard), its anchored windows in index order. */
  windows: readonly (readonly ChainWindow[])[];
  published: unknown | null;
  recount: Recount;
  /** An encrypted election: the sum of the countable ballots' ciphertexts (v2/aggregate.ts). */
  aggregate?: AggregateSum;
}

/** One shard's in-order state (the only one, shard 0, in an election of one shard). */
export interface ShardScan {
  seq: SeqTracker;
  windows: WindowChecker;
}

export interface ScanState {
  inputs: ScanInputs;
  /** Per shard, in shard order. */
  shards: ShardScan[];
  /** Rows with a readable seq, all shards together. */
  rows: number;
  /** The highest seq of any shard, -1 before any row. */
  maxSeq: number;
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
  const shardTotal = shardCount(manifest);
  const sharded = shardTotal > 1;
  const seqs = Array.from({ length: shardTotal }, (_, s) => new SeqTracker(sharded ? s : undefined));
  /** "seq 4", or "seq 4 of shard 1". */
  const at = (place: number): string => (sharded ? `seq ${seqAt(place)} of shard ${shardAt(place)}` : `seq ${place}`);
  /** Where a finding about the row at `place` is (built only for a finding: this is the hot loop). */
  const rowPlace = (place: number): { shard?: number; seq: number } =>
    sharded ? { shard: shardAt(place), seq: seqAt(place) } : { seq: place };
  /** Leaf (32 bytes as a latin1 string) → the place (placeOf) of its first row. */
  const hashes = new Map<string, number>();
  /** Credentials not on the roll → the place of their first ballot (roll keys: firstPlaceByRollKey). */
  const offRollCredentials = new Map<string, number>();
  const promiseMs = (manifest.windowSeconds + ANCHOR_GRACE_SECONDS) * 1000;
  /** placeOf(shard, window index) → late ballots of that window. */
  const late = new Map<number, { count: number; firstSeq: number }>();
  let inputs: ScanInputs | undefined;
  let checkers: WindowChecker[] = [];
  /** Per roll key (by its index in roll.keys): the place of its first ballot, -1 before it. */
  let firstPlaceByRollKey = new Float64Array(0);
  let verifiedRollKeys = new Uint8Array(0);

  const consume = async (rows: PackedRows | undefined): Promise<void> => {
    if (inputs === undefined) {
      inputs = await prepared;
      // Tiles saved earlier (--tiles): per window, and per shard in an election of several.
      const tiles = opts.tiles === undefined ? undefined : openTileSource(opts.tiles);
      checkers = seqs.map((_, s) => {
        const shard = sharded ? s : undefined;
        const saved = tiles === undefined ? undefined : savedTilesOfElection(tiles, opts.electionId, shard);
        return new WindowChecker(inputs!.windows[s] ?? [], shard, saved);
      });
      firstPlaceByRollKey = new Float64Array(inputs.roll.keys.size).fill(-1);
      verifiedRollKeys = new Uint8Array(inputs.roll.keys.size);
    }
    if (rows === undefined) return;
    const { roll, recount, aggregate } = inputs;
    aggregate?.addBlock(rows);
    const leaves = Buffer.from(rows.leaves.buffer, rows.leaves.byteOffset, rows.leaves.byteLength);
    const credentials = Buffer.from(rows.credentials.buffer, rows.credentials.byteOffset, rows.credentials.byteLength);
    const problems = rows.problems;
    let p = 0;
    for (let i = 0; i < rows.count; i++) {
      const rowSeq = rows.seqs[i]!;
      // A readable row of an election of several shards names one of its shards (row-check.ts).
      const shard = sharded && rowSeq >= 0 ? rows.shards[i]! : 0;
      for (; p < problems.length && problems[p]!.row === i; p++)
        report(
          finding(
            problems[p]!.code,
            problems[p]!.message,
            rowSeq < 0 ? {} : sharded ? { shard, seq: rowSeq } : { seq: rowSeq },
          ),
        );
      if (rowSeq < 0) continue;
      const place = placeOf(shard, rowSeq);
      const flags = rows.flags[i]!;
      const credential = (flags & ROW_HAS_CREDENTIAL) !== 0 ? credentials.toString('hex', 32 * i, 32 * i + 32) : '';
      const rollKey = credential === '' ? undefined : roll.keys.get(credential);
      if ((flags & ROW_SIGNATURE_VALID) !== 0 && rollKey !== undefined) verifiedRollKeys[rollKey] = 1;
      report(seqs[shard]!.observe(rowSeq));
      let countable = (flags & ROW_COUNTABLE) !== 0;
      if (credential !== '' && rollKey === undefined) {
        report(
          finding('not-on-roll', `${at(place)}: credential ${short(credential)} is not on the roll`, rowPlace(place)),
        );
        countable = false;
      }
      const leafKey = leaves.toString('latin1', 32 * i, 32 * i + 32);
      const sameHash = hashes.get(leafKey);
      if (sameHash !== undefined) {
        report(
          finding(
            'duplicate-hash',
            `${at(place)}: ballot hash ${short(leaves.toString('hex', 32 * i, 32 * i + 32))} already at ` +
              `${at(sameHash)}`,
            rowPlace(place),
          ),
        );
        countable = false;
      } else {
        hashes.set(leafKey, place);
        if (credential !== '') {
          const sameCredential =
            rollKey === undefined
              ? offRollCredentials.get(credential)
              : firstPlaceByRollKey[rollKey]! >= 0
                ? firstPlaceByRollKey[rollKey]
                : undefined;
          if (sameCredential !== undefined) {
            report(
              finding(
                'duplicate-credential',
                `${at(place)}: a second ballot of credential ${short(credential)}, whose ballot is at ` +
                  `${at(sameCredential)}`,
                rowPlace(place),
              ),
            );
            countable = false;
          } else if (rollKey === undefined) {
            offRollCredentials.set(credential, place);
          } else {
            firstPlaceByRollKey[rollKey] = place;
          }
        }
      }
      const windows = checkers[shard]!;
      const w = windows.windowOf(rowSeq);
      windows.add(rowSeq, rows.leaves, 32 * i, w);
      if (w !== undefined && w.anchoredAt * 1000 > rows.receivedAtMs[i]! + promiseMs + 1000) {
        const key = placeOf(shard, w.index);
        const entry = late.get(key);
        if (entry === undefined) late.set(key, { count: 1, firstSeq: rowSeq });
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
        if (bytes === undefined) opts.progress?.update(seqs.reduce((n, t) => n + t.rows, 0));
      }
    }
    for (const pending of inFlight) await consume(await pending);
    await consume(undefined); // an empty ledger still needs its inputs
  } finally {
    opts.progress?.stop();
  }

  const lateFindings = [...late.entries()].map(([key, { count, firstSeq }]) => {
    const [shard, index] = [shardAt(key), seqAt(key)];
    return finding(
      'late-anchor',
      `window ${index}${sharded ? ` of shard ${shard}` : ''}: ${counted(count, 'ballot')} (first ${range(firstSeq, firstSeq)}) ${count === 1 ? 'was' : 'were'} anchored later than ` +
        `receivedAt + ${manifest.windowSeconds + ANCHOR_GRACE_SECONDS} s`,
      sharded ? { shard, window: index, seq: firstSeq } : { window: index, seq: firstSeq },
      'warning',
    );
  });
  return {
    inputs: inputs!,
    shards: seqs.map((seq, s) => ({ seq, windows: checkers[s]! })),
    rows: seqs.reduce((n, t) => n + t.rows, 0),
    maxSeq: Math.max(...seqs.map((t) => t.maxSeq)),
    late: lateFindings,
    verifiedRollKeys,
  };
}
