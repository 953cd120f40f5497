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
import { buildRoll, type Roll } from '../roll.js';
import { ledgerBlocks, type ElectionSource } from '../sources.js';
import { RowCheckPool } from './pool.js';
import type { RowResult } from './row-check.js';
import { range, SeqTracker } from './seq.js';
import { compareClose, compareResults, Recount, resultsAsOfSeq } from './tally.js';
import { checkWindowRanges, WindowChecker } from './windows.js';

/** Bytes of whole lines per block handed to a worker (about 300 rows). */
const BLOCK_BYTES = 128 * 1024;
/** Blocks in flight per thread: enough to keep workers busy, few enough to bound memory. */
const BLOCKS_PER_THREAD = 8;

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
  const chain = await ChainReader.connect(opts.rpcUrl, opts.contract);
  let pool: RowCheckPool | undefined;
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
    // Start the workers now: they boot while the roll and the windows are read.
    pool = new RowCheckPool({ rules: ballotRules(manifest), engine: opts.engine }, opts.threads);

    findings.push(...checkManifestHash(data.manifest, registration, data.claims.manifestHash));
    findings.push(...checkChainClaims(data.claims, chain));

    // Steps 2 to 4 overlap: the ledger's first blocks go to the workers at once, while the main thread
    // reads the chain's windows, loads the roll and the published results; the roll's tree head is
    // hashed on a worker. Rows are consumed once all of that is ready.
    const prepared = (async (): Promise<ScanInputs> => {
      const windowsRead = chain.windowCount(opts.electionId).then((count) => chain.windows(opts.electionId, count));
      windowsRead.catch(() => undefined); // awaited below
      // Step 2: the roll.
      const roll = buildRoll(await opts.source.roll());
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
    const unproven = [...roll.keys].filter((k) => !scan.verifiedCredentials.has(k));
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
  /** Credentials with at least one verified signature: proven to decode to a curve point. */
  verifiedCredentials: Set<string>;
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
  const credentials = new Map<string, number>();
  const hashes = new Map<string, number>();
  const promiseMs = (manifest.windowSeconds + ANCHOR_GRACE_SECONDS) * 1000;
  const late = new Map<number, { count: number; firstSeq: number }>();
  const verifiedCredentials = new Set<string>();
  let inputs: ScanInputs | undefined;
  let checker: WindowChecker | undefined;

  const consume = async (results: RowResult[]): Promise<void> => {
    inputs ??= await prepared;
    checker ??= new WindowChecker(inputs.windows);
    const { roll, recount } = inputs;
    for (const r of results) {
      for (const p of r.problems) report(finding(p.code, p.message, r.seq >= 0 ? { seq: r.seq } : {}));
      if (r.seq < 0) continue;
      if (r.signatureValid) verifiedCredentials.add(r.credential);
      report(seq.observe(r.seq));
      const at = `seq ${r.seq}`;
      let countable = r.choices !== null;
      if (r.credential !== '' && !roll.keys.has(r.credential)) {
        report(finding('not-on-roll', `${at}: credential ${short(r.credential)} is not on the roll`, { seq: r.seq }));
        countable = false;
      }
      const sameHash = hashes.get(r.leaf);
      if (sameHash !== undefined) {
        report(finding('duplicate-hash', `${at}: ballot hash ${short(r.leaf)} already at seq ${sameHash}`, { seq: r.seq }));
        countable = false;
      } else {
        hashes.set(r.leaf, r.seq);
        const sameCredential = r.credential === '' ? undefined : credentials.get(r.credential);
        if (sameCredential !== undefined) {
          report(finding('duplicate-credential', `${at}: a second ballot of credential ${short(r.credential)}, whose ballot is at seq ${sameCredential}`, { seq: r.seq }));
          countable = false;
        } else if (r.credential !== '') {
          credentials.set(r.credential, r.seq);
        }
      }
      checker.add(r.seq, r.leaf);
      const w = checker.windowOf(r.seq);
      if (w !== undefined && w.anchoredAt * 1000 > r.receivedAtMs + promiseMs + 1000) {
        const entry = late.get(w.index);
        if (entry === undefined) late.set(w.index, { count: 1, firstSeq: r.seq });
        else entry.count++;
      }
      if (countable) recount.add(r.seq, r.choices!);
    }
  };

  const bytes = await opts.source.ledgerBytes();
  opts.progress?.start(bytes ?? expectedRows, bytes === undefined ? 'ballots' : 'bytes');
  let progressed = 0;
  const onBytes = bytes === undefined ? undefined : (n: number) => opts.progress?.update((progressed += n));
  const inFlight: Promise<RowResult[]>[] = [];
  const maxInFlight = Math.max(1, pool.threads) * BLOCKS_PER_THREAD;
  let nextLine = 1;
  try {
    for await (const block of ledgerBlocks(opts.source.ledgerChunks(), BLOCK_BYTES, onBytes)) {
      inFlight.push(pool.check(block.bytes, nextLine));
      nextLine += block.lines;
      while (inFlight.length >= maxInFlight) {
        await consume(await inFlight.shift()!);
        if (bytes === undefined) opts.progress?.update(seq.rows);
      }
    }
    for (const pending of inFlight) await consume(await pending);
    await consume([]); // an empty ledger still needs its inputs
  } finally {
    opts.progress?.stop();
  }

  const lateFindings = [...late.entries()].map(([index, { count, firstSeq }]) =>
    finding('late-anchor', `window ${index}: ${count} ballots (first ${range(firstSeq, firstSeq)}) were anchored later than receivedAt + ${manifest.windowSeconds + ANCHOR_GRACE_SECONDS} s`, { window: index, seq: firstSeq }, 'warning'),
  );
  return { inputs: inputs!, seq, windows: checker!, late: lateFindings, verifiedCredentials };
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
