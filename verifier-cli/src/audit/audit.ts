// `audit`: the whole ledger of one election against the chain. The steps, in order:
//   1. the manifest: a v1 manifest of this election, H(JCS(manifest)) = the chain's manifestHash;
//   2. the roll: every key's encoding acceptable; MTH(sorted keys) = the chain's rollRoot (hashed on a
//      worker during the scan); keys that signed no valid ballot decoded as curve points after it;
//   3. the chain's windows: windowCount + getWindow, contiguous from seq 0;
//   4. the ledger, streamed in blocks of whole lines: per row (in parallel, row-check.ts) canonical
//      form, manifest rules, ballotHash, signature; per row in order (here) seq, roll, one ballot per
//      credential and per hash, window membership, the recount;
//   5. at the end: seq gaps, every window's root, unanchored rows, the published results, and after the
//      close the chain's totalBallots and resultHash.
// Every failed check is a Finding; the report lists them all.
import { ChainReader, type ChainElection, type ChainWindow } from '../chain.js';
import { checkChainClaims, checkManifestHash } from '../checks.js';
import type { Engine } from '../ed25519.js';
import { finding, type Finding, type FindingCode } from '../errors.js';
import { short, toHex } from '../hex.js';
import { ANCHOR_GRACE_SECONDS, ballotRules, manifestProblem, resultHash, type Manifest, type Tally } from '../protocol.js';
import { buildRollYielding, type Roll } from '../roll.js';
import { ledgerBlocks } from '../sources/ledger-blocks.js';
import type { ElectionSource } from '../sources/source.js';
import { RowCheckPool } from './pool.js';
import { ROW_COUNTABLE, ROW_HAS_CREDENTIAL, ROW_SIGNATURE_VALID, type PackedRows } from './row-check.js';
import { range, SeqTracker } from './seq.js';
import { compareClose, compareResults, Recount, resultsAsOfSeq } from './tally.js';
import { checkWindowRanges, WindowChecker } from './windows.js';

/** Bytes of whole lines per block handed to a worker (about 300 rows). */
const BLOCK_BYTES = 128 * 1024;
/** Blocks in flight per thread: enough to keep workers busy, few enough to bound memory (2 MB of lines per thread). */
const BLOCKS_PER_THREAD = 16;
/**
 * How many times as many blocks may be in flight while the roll and the windows are still being read
 * at the start (rows are consumed only once they are): the workers keep verifying meanwhile.
 */
const EARLY_BLOCKS_FACTOR = 4;

export interface AuditProgress {
  /** `total` in `unit`s (for ballots an estimate: the bar grows if more come), undefined when unknown. */
  start(total: number | undefined, unit: 'bytes' | 'ballots'): void;
  update(value: number): void;
  stop(): void;
}

export interface AuditOptions {
  electionId: string;
  source: ElectionSource;
  rpcUrl: string;
  contract: string;
  engine: Engine;
  /** Worker threads for the per-row checks; 0 checks on the main thread. */
  threads: number;
  progress?: AuditProgress;
}

export interface AuditReport {
  tool: 'tallyproof-verify audit';
  electionId: string;
  source: string;
  chain: { rpcUrl: string; chainId: number; contract: string; election: ChainElection | null; windows: number };
  engine: Engine;
  threads: number;
  ledger: { rows: number; maxSeq: number; countable: number; anchoredRows: number; unanchoredRows: number };
  recount: { tally: Tally; totalBallots: number; resultHash: string } | null;
  publishedResults: 'compared' | 'not available';
  verdict: 'pass' | 'fail';
  summary: { errors: number; warnings: number; byCode: Partial<Record<FindingCode, number>> };
  findings: Finding[];
  startedAt: string;
  elapsedMs: number;
}

export async function runAudit(opts: AuditOptions): Promise<AuditReport> {
  const startedAt = new Date();
  const findings: Finding[] = [];
  const report = (f: Finding | null): void => {
    if (f !== null) findings.push(f);
  };

  // Step 1: the manifest, then the chain's registration.
  const data = await opts.source.election();
  const problem = manifestProblem(data.manifest);
  // A manifest good enough to check rows with: the workers boot while the chain is read (closed
  // unused if the audit stops before the ledger).
  let pool: RowCheckPool | undefined =
    problem === null && (data.manifest as Manifest).electionId === opts.electionId
      ? new RowCheckPool({ rules: ballotRules(data.manifest as Manifest), engine: opts.engine }, opts.threads)
      : undefined;
  let chain: ChainReader;
  try {
    chain = await ChainReader.connect(opts.rpcUrl, opts.contract);
  } catch (err) {
    await pool?.close();
    throw err;
  }
  try {
    const registration = await chain.election(opts.electionId);
    const base = {
      electionId: opts.electionId,
      source: opts.source.description,
      chain: { rpcUrl: opts.rpcUrl, chainId: chain.chainId, contract: chain.address, election: registration, windows: 0 },
      engine: opts.engine,
      threads: opts.threads,
    };
    const stop = (): AuditReport => finishReport(base, findings, startedAt, null, 'not available', { rows: 0, maxSeq: -1, countable: 0, anchoredRows: 0, unanchoredRows: 0 });

    if (problem !== null) {
      report(finding('manifest-invalid', problem));
      return stop();
    }
    const manifest = data.manifest as Manifest;
    if (manifest.electionId !== opts.electionId) {
      report(finding('manifest-invalid', `the manifest is for election ${manifest.electionId}, not ${opts.electionId}`));
      return stop();
    }
    if (registration === null) {
      report(finding('not-registered', `election ${opts.electionId} is not registered on contract ${chain.address} (chain ${chain.chainId})`));
      return stop();
    }
    pool ??= new RowCheckPool({ rules: ballotRules(manifest), engine: opts.engine }, opts.threads);

    findings.push(...checkManifestHash(data.manifest, registration, data.claims.manifestHash));
    findings.push(...checkChainClaims(data.claims, chain));

    // Steps 2 to 4 overlap: the ledger's first blocks go to the workers at once, while the main thread
    // reads the chain's windows, loads the roll and the published results; the roll's tree head is
    // hashed on a worker. Rows are consumed once all of that is ready.
    const prepared = (async (): Promise<ScanInputs> => {
      const windowsRead = chain.windowCount(opts.electionId).then((count) => chain.windows(opts.electionId, count));
      windowsRead.catch(() => undefined); // awaited below
      // Step 2: the roll.
      const roll = await buildRollYielding(await opts.source.roll());
      for (const message of roll.problems) report(finding('roll-invalid', message));
      const rollRoot = pool!.treeHead(roll.packed.slice());
      rollRoot.catch(() => undefined); // awaited after the scan
      // Step 3: the chain's windows.
      const windows = await windowsRead;
      base.chain.windows = windows.length;
      findings.push(...checkWindowRanges(windows));
      const published = await opts.source.results();
      return { roll, rollRoot, windows, published, recount: new Recount(ballotRules(manifest), resultsAsOfSeq(published)) };
    })();
    prepared.catch(() => undefined); // awaited by the scan

    // Step 4: the ledger.
    const scan = await scanLedger(opts, pool, manifest, prepared, report, registration.anchoredBallots);
    const { roll, published, recount } = scan.inputs;

    // Step 5: what only the whole ledger shows.
    findings.push(...scan.seq.finish(registration.anchoredBallots));
    findings.push(...scan.windows.finish());
    if (scan.windows.unanchoredRows > 0) {
      const first = scan.windows.firstUnanchoredSeq;
      report(
        finding(
          'unanchored',
          registration.closed
            ? `${scan.windows.unanchoredRows} ballots from seq ${first} on are in no anchored window, and the election is closed`
            : `${scan.windows.unanchoredRows} ballots from seq ${first} on are not anchored yet (the election is open)`,
          { seq: first },
          registration.closed ? 'error' : 'warning',
        ),
      );
    }
    const computedRollRoot = toHex(await scan.inputs.rollRoot);
    if (computedRollRoot !== registration.rollRoot) {
      report(finding('roll-root-mismatch', `the roll of ${roll.keys.size} keys has root ${short(computedRollRoot)}, the chain registered ${short(registration.rollRoot)}`));
    }
    findings.push(...scan.late);
    // Roll keys not proven to be curve points by a verified signature are decoded now.
    const unproven: string[] = [];
    for (const [key, index] of roll.keys) if (scan.verifiedRollKeys[index] === 0) unproven.push(key);
    for (const message of await pool.checkRollPoints(unproven)) report(finding('roll-invalid', message));
    if (published !== null) findings.push(...compareResults(published, opts.electionId, recount));
    if (registration.closed) findings.push(...compareClose(registration, opts.electionId, recount, scan.seq.rows));

    const tally = recount.tally();
    return finishReport(
      base,
      findings,
      startedAt,
      { tally, totalBallots: recount.totalBallots, resultHash: toHex(resultHash(opts.electionId, tally, recount.totalBallots)) },
      published === null ? 'not available' : 'compared',
      {
        rows: scan.seq.rows,
        maxSeq: scan.seq.maxSeq,
        countable: recount.totalBallots,
        anchoredRows: scan.seq.rows - scan.windows.unanchoredRows,
        unanchoredRows: scan.windows.unanchoredRows,
      },
    );
  } finally {
    chain.close();
    await pool?.close();
  }
}

/** What the in-order checks need besides the rows; prepared while the first blocks are checked. */
interface ScanInputs {
  roll: Roll;
  /** The roll's tree head, being hashed on a worker. */
  rollRoot: Promise<Uint8Array>;
  windows: readonly ChainWindow[];
  published: unknown | null;
  recount: Recount;
}

interface ScanState {
  inputs: ScanInputs;
  seq: SeqTracker;
  windows: WindowChecker;
  late: Finding[];
  /** Per roll key (by its index in roll.keys): 1 when a signature by it verified, which proves it decodes to a curve point. */
  verifiedRollKeys: Uint8Array;
}

/** Step 4: stream the ledger through the pool, then the in-order checks on each result. */
async function scanLedger(
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
    const { roll, recount } = inputs;
    const windows = checker!;
    const leaves = Buffer.from(rows.leaves.buffer, rows.leaves.byteOffset, rows.leaves.byteLength);
    const credentials = Buffer.from(rows.credentials.buffer, rows.credentials.byteOffset, rows.credentials.byteLength);
    const problems = rows.problems;
    let p = 0;
    for (let i = 0; i < rows.count; i++) {
      const rowSeq = rows.seqs[i]!;
      for (; p < problems.length && problems[p]!.row === i; p++) report(finding(problems[p]!.code, problems[p]!.message, rowSeq >= 0 ? { seq: rowSeq } : {}));
      if (rowSeq < 0) continue;
      const flags = rows.flags[i]!;
      const credential = (flags & ROW_HAS_CREDENTIAL) !== 0 ? credentials.toString('hex', 32 * i, 32 * i + 32) : '';
      const rollKey = credential === '' ? undefined : roll.keys.get(credential);
      if ((flags & ROW_SIGNATURE_VALID) !== 0 && rollKey !== undefined) verifiedRollKeys[rollKey] = 1;
      report(seq.observe(rowSeq));
      let countable = (flags & ROW_COUNTABLE) !== 0;
      if (credential !== '' && rollKey === undefined) {
        report(finding('not-on-roll', `seq ${rowSeq}: credential ${short(credential)} is not on the roll`, { seq: rowSeq }));
        countable = false;
      }
      const leafKey = leaves.toString('latin1', 32 * i, 32 * i + 32);
      const sameHash = hashes.get(leafKey);
      if (sameHash !== undefined) {
        report(finding('duplicate-hash', `seq ${rowSeq}: ballot hash ${short(leaves.toString('hex', 32 * i, 32 * i + 32))} already at seq ${sameHash}`, { seq: rowSeq }));
        countable = false;
      } else {
        hashes.set(leafKey, rowSeq);
        if (credential !== '') {
          const sameCredential = rollKey === undefined ? offRollCredentials.get(credential) : firstSeqByRollKey[rollKey]! >= 0 ? firstSeqByRollKey[rollKey] : undefined;
          if (sameCredential !== undefined) {
            report(finding('duplicate-credential', `seq ${rowSeq}: a second ballot of credential ${short(credential)}, whose ballot is at seq ${sameCredential}`, { seq: rowSeq }));
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
    }
  };

  const bytes = await opts.source.ledgerBytes();
  opts.progress?.start(bytes ?? expectedRows, bytes === undefined ? 'ballots' : 'bytes');
  let progressed = 0;
  const onBytes = bytes === undefined ? undefined : (n: number) => opts.progress?.update((progressed += n));
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
    finding('late-anchor', `window ${index}: ${count} ballots (first ${range(firstSeq, firstSeq)}) were anchored later than receivedAt + ${manifest.windowSeconds + ANCHOR_GRACE_SECONDS} s`, { window: index, seq: firstSeq }, 'warning'),
  );
  return { inputs: inputs!, seq, windows: checker!, late: lateFindings, verifiedRollKeys };
}

function finishReport(
  base: Pick<AuditReport, 'electionId' | 'source' | 'chain' | 'engine' | 'threads'>,
  findings: Finding[],
  startedAt: Date,
  recount: AuditReport['recount'],
  publishedResults: AuditReport['publishedResults'],
  ledger: AuditReport['ledger'],
): AuditReport {
  const byCode: Partial<Record<FindingCode, number>> = {};
  let errors = 0;
  for (const f of findings) {
    byCode[f.code] = (byCode[f.code] ?? 0) + 1;
    if (f.severity === 'error') errors++;
  }
  return {
    tool: 'tallyproof-verify audit',
    ...base,
    ledger,
    recount,
    publishedResults,
    verdict: errors === 0 ? 'pass' : 'fail',
    summary: { errors, warnings: findings.length - errors, byCode },
    findings,
    startedAt: startedAt.toISOString(),
    elapsedMs: Date.now() - startedAt.getTime(),
  };
}
