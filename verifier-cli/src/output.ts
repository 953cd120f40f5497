// Human-readable output: verdicts, findings, the roots table, what `tiles save` did, and the progress bar
// (cli-progress, only on a terminal). JSON output is the reports themselves, printed by cli.ts.
import cliProgress from 'cli-progress';
import type { AuditProgress, AuditReport } from './audit/audit.js';
import type { ReceiptReport } from './commands/receipt.js';
import type { RootsReport } from './commands/roots.js';
import type { TilesSaveReport } from './commands/tiles-save.js';
import type { Finding } from './errors.js';
import { counted } from './plural.js';

/** Where output goes; process.stdout/stderr in the bin, buffers in tests. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Findings printed per code before "… and N more" (the --report file has them all). */
const FINDINGS_PER_CODE = 20;

export function formatFinding(f: Finding): string {
  const mark = f.severity === 'error' ? '✗' : '!';
  return `  ${mark} ${f.code.padEnd(22)} ${f.message}`;
}

export function formatFindings(findings: readonly Finding[]): string[] {
  const shown = new Map<string, number>();
  const lines: string[] = [];
  for (const f of findings) {
    const n = (shown.get(f.code) ?? 0) + 1;
    shown.set(f.code, n);
    if (n <= FINDINGS_PER_CODE) lines.push(formatFinding(f));
  }
  for (const [code, n] of shown) {
    if (n > FINDINGS_PER_CODE)
      lines.push(`  … and ${counted(n - FINDINGS_PER_CODE, `more ${code} finding`)} (see --report)`);
  }
  return lines;
}

export function formatAudit(report: AuditReport): string {
  const r = report;
  const lines = [
    `Audit of election ${r.electionId}`,
    `  source:   ${r.source}`,
    `  chain:    ${r.chain.chainId} via ${r.chain.rpcUrl}, contract ${r.chain.contract}`,
  ];
  const e = r.chain.election;
  if (e !== null) {
    lines.push(`  on chain: manifest ${e.manifestHash}, roll root ${e.rollRoot}`);
    // An election of several shards: its windows are anchored through intervals.
    const windows =
      r.chain.intervals === undefined
        ? counted(r.chain.windows, 'window')
        : `${counted(r.chain.intervals, 'interval')} of ${counted(r.chain.windows, 'shard window')}`;
    lines.push(
      `            ${windows}, ${counted(e.anchoredBallots, 'ballot')} anchored, ${e.closed ? `closed with resultHash ${e.resultHash} (${counted(e.totalBallots, 'ballot')})` : 'open'}`,
    );
  }
  const highest =
    r.ledger.shards === undefined
      ? `highest seq ${r.ledger.maxSeq}`
      : `in ${counted(r.ledger.shards.length, 'shard')}, highest seq ${r.ledger.maxSeq}`;
  lines.push(
    `  ledger:   ${counted(r.ledger.rows, 'row')} (${highest}), ${r.ledger.countable} counted, ${r.ledger.unanchoredRows} not anchored`,
  );
  if (r.recount !== null) {
    // Per contest its ballots counted (what any percentage is of) and its blank ballots, next to the votes.
    const contests = r.recount.contests;
    const parts = Object.entries(r.recount.tally).map(([c, choices]) => {
      const n = Object.hasOwn(contests, c) ? contests[c] : undefined;
      const votes = Object.entries(choices).map(([k, v]) => `${k} ${v}`);
      if (n !== undefined) votes.push(`blank ${n.blank}`);
      return `${c}${n === undefined ? '' : ` (${counted(n.ballotsCounted, 'ballot')})`}: ${votes.join(', ')}`;
    });
    lines.push(`  ${r.encryption === undefined ? 'recount: ' : 'decrypted:'} ${parts.join(' | ')}`);
    lines.push(`            published results ${r.publishedResults}`);
  }
  const x = r.encryption;
  if (x !== undefined) {
    // An encrypted election: the key ceremony, the aggregate and who decrypted.
    lines.push(
      `  trustees: ${x.trustees.join(', ')} (threshold ${x.threshold}), key ceremony ${x.keyCeremony}` +
        (x.publicKey === null ? '' : `, election key ${x.publicKey}`),
    );
    lines.push(
      `            aggregate ${x.aggregate}, ${x.combined.length > 0 ? `decrypted by ${x.combined.join(', ')}` : 'not decrypted'}` +
        ` (${counted(x.validPartialDecryptions.length, 'valid partial decryption')})`,
    );
  }
  lines.push(
    `  checked in ${(r.elapsedMs / 1000).toFixed(1)} s with ${r.threads === 0 ? 'no worker threads' : counted(r.threads, 'worker thread')} (${r.engine} engine)`,
  );
  lines.push('');
  if (r.findings.length > 0) lines.push(...formatFindings(r.findings), '');
  lines.push(
    r.verdict === 'pass'
      ? `PASS: every check holds${r.summary.warnings > 0 ? ` (${counted(r.summary.warnings, 'warning')})` : ''}.`
      : `FAIL: ${counted(r.summary.errors, 'failed check')}, ${counted(r.summary.warnings, 'warning')}.`,
  );
  return lines.join('\n') + '\n';
}

export function formatReceipt(report: ReceiptReport): string {
  const r = report;
  const lines = [
    `Receipt ${r.ballotHash}${r.electionId === undefined ? '' : ` in election ${r.electionId}`}${r.seq === undefined ? '' : `, seq ${r.seq}`}${r.shard === undefined ? '' : ` of shard ${r.shard}`}`,
  ];
  if (r.chain !== undefined) {
    lines.push(
      `  chain ${r.chain.chainId} via ${r.chain.rpcUrl}, contract ${r.chain.contract}${r.chain.contractFrom === 'server' ? ' (named by the server: pass --contract to pin it)' : ''}`,
    );
  }
  if (r.tiles !== undefined) lines.push(`  proof computed from the tiles in ${r.tiles} (no proof bundle asked for)`);
  for (const p of r.passed) lines.push(`  ✓ ${p}`);
  lines.push(...r.findings.map(formatFinding), '');
  if (r.verdict === 'anchored')
    lines.push(
      r.interval === undefined
        ? 'VERIFIED: the ballot is in a window whose root is anchored on chain.'
        : 'VERIFIED: the ballot is in a shard window whose record is in an interval anchored on chain.',
    );
  else if (r.verdict === 'not-anchored')
    lines.push(
      r.proofFrom === 'tiles'
        ? 'NOT YET ANCHORED: no window anchored on chain holds its seq yet; check again later (exit code 3).'
        : `NOT YET ANCHORED: the ledger acknowledged the ballot (${r.status ?? 'pending'}); check again later (exit code 3).`,
    );
  else lines.push('FAILED: the receipt does not check out (see above).');
  return lines.join('\n') + '\n';
}

export function formatRoots(report: RootsReport): string {
  const r = report;
  const lines = [`Election ${r.electionId} (key ${r.electionKey}) on chain ${r.chainId}, contract ${r.contract}`];
  if (!r.registered || r.registration === undefined) {
    lines.push('  not registered');
    return lines.join('\n') + '\n';
  }
  const g = r.registration;
  lines.push(`  registered ${g.registeredAt}${g.tx ? ` in ${g.tx.txHash} (block ${g.tx.blockNumber})` : ''}`);
  lines.push(`    manifestHash ${g.manifestHash}`);
  lines.push(`    rollRoot     ${g.rollRoot}`);
  lines.push('');
  const header = ['window', 'firstSeq', 'lastSeq', 'count', 'root', 'anchoredAt'];
  const rows = r.windows.map((w) => [
    String(w.index),
    String(w.firstSeq),
    String(w.lastSeq),
    String(w.count),
    w.root,
    w.anchoredAtIso,
  ]);
  if (r.windows.some((w) => w.tx !== undefined)) {
    header.push('tx');
    for (const [i, w] of r.windows.entries()) rows[i]!.push(w.tx?.txHash ?? '');
  }
  if (r.intervals === undefined) {
    lines.push(...table(header, rows).map((l) => `  ${l}`));
    lines.push('', `  ${counted(r.windows.length, 'window')}, ${counted(r.anchoredBallots, 'ballot')} anchored`);
  } else {
    // An election of several shards: one root per anchor interval of shard windows.
    const intervalHeader = ['interval', 'windows', 'ballots', 'root', 'anchoredAt'];
    const intervalRows = r.intervals.map((i) => [
      String(i.index),
      String(i.windowCount),
      String(i.ballotCount),
      i.root,
      i.anchoredAtIso,
      ...(r.intervals!.some((x) => x.tx !== undefined) ? [i.tx?.txHash ?? ''] : []),
    ]);
    if (r.intervals.some((x) => x.tx !== undefined)) intervalHeader.push('tx');
    lines.push(...table(intervalHeader, intervalRows).map((l) => `  ${l}`));
    lines.push('', `  ${counted(r.intervals.length, 'interval')}, ${counted(r.anchoredBallots, 'ballot')} anchored`);
  }
  lines.push(
    r.close
      ? `  closed: resultHash ${r.close.resultHash}, totalBallots ${r.close.totalBallots}${r.close.tx ? ` in ${r.close.tx.txHash}` : ''}`
      : '  not closed',
  );
  if (r.findings.length > 0) lines.push('', ...r.findings.map(formatFinding));
  return lines.join('\n') + '\n';
}

/** Left-aligned columns, numbers right-aligned. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (/^\d+$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

/** A cli-progress bar on `stream` when it is a terminal; otherwise nothing. */
export function terminalProgress(
  stream: OutputStream & NodeJS.WritableStream,
  enabled: boolean,
): AuditProgress | undefined {
  if (!enabled || stream.isTTY !== true) return undefined;
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let unit: 'bytes' | 'ballots' | 'tiles' = 'ballots';
  return {
    start(t, u) {
      unit = u;
      total = t ?? 0;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format:
            unit === 'bytes'
              ? 'ledger |{bar}| {percentage}% {value}/{total} MB | {eta_formatted} left'
              : unit === 'tiles'
                ? 'tiles |{bar}| {percentage}% {value}/{total} tiles | {eta_formatted} left'
                : 'ledger |{bar}| {value} ballots',
          hideCursor: true,
          clearOnComplete: true,
          fps: 5,
          formatValue: (v, _o, type) =>
            unit === 'bytes' && (type === 'value' || type === 'total') ? (v / 1e6).toFixed(1) : String(v),
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0);
    },
    update(value) {
      if (bar === undefined) return;
      if (value > total) {
        total = value;
        bar.setTotal(total);
      }
      bar.update(value);
    },
    stop() {
      bar?.stop();
    },
  };
}

export function formatTilesSave(report: TilesSaveReport): string {
  const r = report;
  const t = r.totals;
  const lines = [`Tiles of election ${r.electionId} from ${r.api} into ${r.out}`];
  if (r.chain !== undefined)
    lines.push(
      `  roots from the chain ${r.chain.chainId} via ${r.chain.rpcUrl}, contract ${r.chain.contract}${r.chain.contractFrom === 'server' ? ' (named by the server: pass --contract to pin it)' : ''}: anchored windows only`,
    );
  else
    lines.push(
      "  roots from the server's windows list (GET …/windows), not checked against the chain: pass --rpc and --contract",
    );
  lines.push(
    `  ${counted(t.windows, 'window')} saved and checked${r.fromWindow > 0 ? ` (from window ${r.fromWindow})` : ''}` +
      `${r.shards > 1 ? ` over ${r.shards} shards` : ''}: ${counted(t.tiles, 'tile')} (hash tiles and entry bundles), ` +
      `${t.downloaded} downloaded, ${t.present} already there`,
  );
  for (const w of r.windows)
    if (w.status === 'incomplete')
      lines.push(`  ! ${w.shard === undefined ? '' : `shard ${w.shard} `}window ${w.index}: ${w.message}`);
  lines.push(...formatFindings(r.findings), '');
  lines.push(
    r.verdict === 'saved'
      ? 'SAVED: every window listed is saved, its tiles giving its root.'
      : r.verdict === 'incomplete'
        ? 'INCOMPLETE: the server did not serve every tile (see above); run again to resume (exit code 2).'
        : 'FAILED: tiles that do not give their window’s root were not saved (see above).',
  );
  return lines.join('\n') + '\n';
}
