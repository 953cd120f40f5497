// `audit`: the whole ledger of one election against the chain. The steps, in order:
//   1. the manifest: a v1 manifest of this election, H(JCS(manifest)) = the chain's manifestHash;
//   2. the roll: every key's encoding acceptable; MTH(sorted keys) = the chain's rollRoot (hashed on a
//      worker during the scan); keys that signed no valid ballot decoded as curve points after it;
//   3. the chain's windows: windowCount + getWindow, contiguous from seq 0;
//   4. the ledger, streamed in blocks of whole lines (ledger-scan.ts): per row (in parallel, row-check.ts)
//      canonical form, manifest rules, ballotHash, signature; per row in order seq, roll, one ballot per
//      credential and per hash, window membership, the recount;
//   5. at the end (whole-ledger.ts): seq gaps, every window's root, unanchored rows, the published
//      results, and after the close the chain's totalBallots and resultHash.
// An encrypted election (manifest version 2, v2/audit-v2.ts) adds the key ceremony's transcript to step 1,
// checks every ballot's proofs in step 4 and sums their ciphertexts, and in step 5 checks the aggregate,
// the partial decryptions and the decrypted counts in place of the recount.
// An election of several shards (manifest `shards` > 1, docs/protocol.md section 13) has no windows on chain
// but anchor intervals: step 3 checks the intervals' records against them and takes each shard's windows from
// those records (intervals.ts); steps 4 and 5 check each shard's seqs and windows on their own, ballots in
// the shard their credential names, and credentials and hashes across the election.
// Steps 1 to 3 are here, with the order of it all and the report. Every failed check is a Finding; the
// report lists them all.
import { ChainReader, type ChainElection, type ChainWindow } from '../chain.js';
import { checkChainClaims, checkManifestHash } from '../checks.js';
import type { Engine } from '../ed25519.js';
import { finding, type Finding, type FindingCode } from '../errors.js';
import { toHex } from '../hex.js';
import {
  ballotRules,
  manifestProblem,
  resultHash,
  shardCount,
  type ContestCounts,
  type Manifest,
  type Tally,
} from '../protocol.js';
import { buildRollYielding } from '../roll.js';
import type { ElectionSource } from '../sources/source.js';
import { scanLedger, type ScanInputs } from './ledger-scan.js';
import { RowCheckPool } from './pool.js';
import { Recount, resultsAsOfSeq } from './tally.js';
import { checkWindowRanges } from './windows.js';
import { readShardedWindows } from './intervals.js';
import { checkWholeLedger } from './whole-ledger.js';
import type { RowContext } from './row-check.js';
import { EncryptedAudit, type EncryptionReport } from '../v2/audit-v2.js';
import { isVersion2 } from '../v2/manifest.js';

export interface AuditProgress {
  /** `total` in `unit`s (for ballots an estimate: the bar grows if more come), undefined when unknown. */
  start(total: number | undefined, unit: 'bytes' | 'ballots' | 'tiles'): void;
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
  /**
   * Tiles saved earlier: a directory or an http(s) base, `<electionId>/windows/<w>/tile/…` (several shards:
   * `<electionId>/shards/<s>/windows/<w>/tile/…`); a window whose root differs then names the seqs that differ.
   */
  tiles?: string;
  progress?: AuditProgress;
}

export interface AuditReport {
  tool: 'tallyproof-verify audit';
  electionId: string;
  source: string;
  /**
   * `windows`: the anchored windows (of every shard); an election of several shards also gives its `shards` and
   * the chain's anchor `intervals`.
   */
  chain: {
    rpcUrl: string;
    chainId: number;
    contract: string;
    election: ChainElection | null;
    windows: number;
    shards?: number;
    intervals?: number;
  };
  engine: Engine;
  threads: number;
  /** `maxSeq`: the highest of any shard; an election of several shards lists its `shards` too. */
  ledger: {
    rows: number;
    maxSeq: number;
    countable: number;
    anchoredRows: number;
    unanchoredRows: number;
    shards?: { shard: number; rows: number; maxSeq: number }[];
  };
  /** `contests`: per contest, ballots counted and blank ballots (not part of resultHash). */
  recount: { tally: Tally; contests: ContestCounts; totalBallots: number; resultHash: string } | null;
  publishedResults: 'compared' | 'not available';
  /** An encrypted election only: the key ceremony, the aggregate and the decryption. */
  encryption?: EncryptionReport;
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

  // Step 1: the manifest, then the chain's registration. An encrypted election's manifest (version 2)
  // also needs the key ceremony's transcript, which gives the key its ballots are checked against.
  const data = await opts.source.election();
  const encrypted = isVersion2(data.manifest)
    ? await EncryptedAudit.prepare(opts.source, data.manifest, opts.engine, data.claims.publicKey)
    : undefined;
  const problem = encrypted === undefined ? manifestProblem(data.manifest) : encrypted.manifestProblem;
  const rowContext = (manifest: Manifest): RowContext => {
    const shards = shardCount(manifest) > 1 ? { shards: shardCount(manifest) } : {};
    return encrypted?.rowContext === undefined
      ? { rules: ballotRules(manifest), engine: opts.engine, ...shards }
      : { rules: ballotRules(manifest), engine: opts.engine, v2: encrypted.rowContext, ...shards };
  };
  const checkable = encrypted === undefined || encrypted.rowContext !== undefined;
  // A manifest good enough to check rows with: the workers boot while the chain is read (closed
  // unused if the audit stops before the ledger).
  let pool: RowCheckPool | undefined =
    problem === null && checkable && (data.manifest as Manifest).electionId === opts.electionId
      ? new RowCheckPool(rowContext(data.manifest as Manifest), opts.threads)
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
    const base: Pick<AuditReport, 'electionId' | 'source' | 'chain' | 'engine' | 'threads'> = {
      electionId: opts.electionId,
      source: opts.source.description,
      chain: {
        rpcUrl: opts.rpcUrl,
        chainId: chain.chainId,
        contract: chain.address,
        election: registration,
        windows: 0,
      },
      engine: opts.engine,
      threads: opts.threads,
    };
    const stop = (): AuditReport =>
      withEncryption(
        finishReport(base, findings, startedAt, null, 'not available', {
          rows: 0,
          maxSeq: -1,
          countable: 0,
          anchoredRows: 0,
          unanchoredRows: 0,
        }),
        encrypted,
      );

    if (problem !== null) {
      report(finding('manifest-invalid', problem));
      return stop();
    }
    const manifest = data.manifest as Manifest;
    if (manifest.electionId !== opts.electionId) {
      report(
        finding('manifest-invalid', `the manifest is for election ${manifest.electionId}, not ${opts.electionId}`),
      );
      return stop();
    }
    if (registration === null) {
      report(
        finding(
          'not-registered',
          `election ${opts.electionId} is not registered on contract ${chain.address} (chain ${chain.chainId})`,
        ),
      );
      return stop();
    }
    findings.push(...checkManifestHash(data.manifest, registration, data.claims.manifestHash));
    findings.push(...checkChainClaims(data.claims, chain));
    if (encrypted !== undefined) {
      findings.push(...encrypted.findings);
      if (!checkable) return stop();
    }
    const shards = shardCount(manifest);
    pool ??= new RowCheckPool(rowContext(manifest), opts.threads);

    // Steps 2 to 4 overlap: the ledger's first blocks go to the workers at once, while the main thread
    // reads the chain's windows, loads the roll and the published results; the roll's tree head is
    // hashed on a worker. Rows are consumed once all of that is ready.
    const prepared = (async (): Promise<ScanInputs> => {
      // One shard: the chain's windows. Several: each shard's windows, from the intervals' records.
      const windowsRead: Promise<{ windows: ChainWindow[][]; findings: Finding[] }> =
        shards === 1
          ? chain
              .windowCount(opts.electionId)
              .then((count) => chain.windows(opts.electionId, count))
              .then((windows) => ({ windows: [windows], findings: checkWindowRanges(windows) }))
          : readShardedWindows(chain, opts.source, opts.electionId, shards, registration).then((read) => {
              base.chain.shards = shards;
              base.chain.intervals = read.intervals.length;
              return read;
            });
      windowsRead.catch(() => undefined); // awaited below
      // Step 2: the roll.
      const roll = await buildRollYielding(await opts.source.roll());
      for (const message of roll.problems) report(finding('roll-invalid', message));
      const rollRoot = pool!.treeHead(roll.packed.slice());
      rollRoot.catch(() => undefined); // awaited after the scan
      // Step 3: the chain's windows.
      const { windows, findings: windowFindings } = await windowsRead;
      base.chain.windows = windows.reduce((n, w) => n + w.length, 0);
      findings.push(...windowFindings);
      const published = await opts.source.results();
      return {
        roll,
        rollRoot,
        windows,
        published,
        // Several shards have no seq to cut the published results at (docs/protocol.md 13.5).
        recount: new Recount(
          ballotRules(manifest),
          shards === 1 ? resultsAsOfSeq(published) : Number.POSITIVE_INFINITY,
        ),
        ...(encrypted?.aggregate === undefined ? {} : { aggregate: encrypted.aggregate }),
      };
    })();
    prepared.catch(() => undefined); // awaited by the scan

    // Step 4: the ledger.
    const scan = await scanLedger(opts, pool, manifest, prepared, report, registration.anchoredBallots);
    const { published, recount } = scan.inputs;

    // Step 5: what only the whole ledger shows.
    await checkWholeLedger(scan, registration, pool, opts.electionId, findings, encrypted);

    // An encrypted election's counts are the decrypted ones (none before the trustees decrypt); its
    // blank ballots are not known (12.6), so no per-contest counts.
    const tally = encrypted === undefined ? recount.tally() : encrypted.tally;
    const unanchoredRows = scan.shards.reduce((n, s) => n + s.windows.unanchoredRows, 0);
    const audited = finishReport(
      base,
      findings,
      startedAt,
      tally === null
        ? null
        : {
            tally,
            contests: encrypted === undefined ? recount.contests() : {},
            totalBallots: recount.totalBallots,
            resultHash: toHex(resultHash(opts.electionId, tally, recount.totalBallots)),
          },
      published === null ? 'not available' : 'compared',
      {
        rows: scan.rows,
        maxSeq: scan.maxSeq,
        countable: recount.totalBallots,
        anchoredRows: scan.rows - unanchoredRows,
        unanchoredRows,
        ...(shards === 1
          ? {}
          : { shards: scan.shards.map((s, shard) => ({ shard, rows: s.seq.rows, maxSeq: s.seq.maxSeq })) }),
      },
    );
    return withEncryption(audited, encrypted);
  } finally {
    chain.close();
    await pool?.close();
  }
}

/** An encrypted election's report gains its `encryption` account (after `publishedResults`). */
function withEncryption(report: AuditReport, encrypted: EncryptedAudit | undefined): AuditReport {
  if (encrypted === undefined) return report;
  const { verdict, summary, findings, startedAt, elapsedMs, ...head } = report;
  return { ...head, encryption: encrypted.report(), verdict, summary, findings, startedAt, elapsedMs };
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
