// The printed output agrees in number: "1 window", "2 windows" (the roots table, the audit summary, the
// findings cut short, and the findings' own messages). Pure functions, no chain.
import { describe, expect, it } from 'vitest';
import type { AuditReport } from '../src/audit/audit.js';
import { SeqTracker } from '../src/audit/seq.js';
import type { RootsReport } from '../src/commands/roots.js';
import type { Finding } from '../src/errors.js';
import { rootFromInclusionProof } from '../src/merkle.js';
import { formatAudit, formatFindings, formatRoots } from '../src/output.js';
import { counted } from '../src/plural.js';

const ROOT = 'ab'.repeat(32);

function rootsReport(windowCounts: number[]): RootsReport {
  let firstSeq = 0;
  const windows = windowCounts.map((count, index) => {
    const w = { index, firstSeq, count, root: ROOT, anchoredAt: 0, lastSeq: firstSeq + count - 1 };
    firstSeq += count;
    return { ...w, anchoredAtIso: '1970-01-01T00:00:00.000Z' };
  });
  return {
    tool: 'tallyproof-verify roots',
    electionId: 'e',
    electionKey: ROOT,
    chainId: 31337,
    contract: '0x0',
    registered: true,
    registration: { manifestHash: ROOT, rollRoot: ROOT, registeredAt: '1970-01-01T00:00:00.000Z' },
    windows,
    anchoredBallots: firstSeq,
    close: null,
    findings: [],
  };
}

function auditReport(over: { windows: number; rows: number; threads: number; errors: number; warnings: number }) {
  const report: AuditReport = {
    tool: 'tallyproof-verify audit',
    electionId: 'e',
    source: 'test',
    chain: {
      rpcUrl: 'http://127.0.0.1:8545',
      chainId: 31337,
      contract: '0x0',
      windows: over.windows,
      election: {
        manifestHash: ROOT,
        rollRoot: ROOT,
        registeredAt: 0,
        closed: true,
        resultHash: ROOT,
        totalBallots: over.rows,
        anchoredBallots: over.rows,
        anchoredWindows: over.windows,
      },
    },
    engine: 'node',
    threads: over.threads,
    ledger: {
      rows: over.rows,
      maxSeq: over.rows - 1,
      countable: over.rows,
      anchoredRows: over.rows,
      unanchoredRows: 0,
    },
    recount: null,
    publishedResults: 'not available',
    verdict: over.errors > 0 ? 'fail' : 'pass',
    summary: { errors: over.errors, warnings: over.warnings, byCode: {} },
    findings: [],
    startedAt: '1970-01-01T00:00:00.000Z',
    elapsedMs: 0,
  };
  return report;
}

describe('counts in the output', () => {
  it('counted: singular for one, plural otherwise, irregular plurals given', () => {
    expect([0, 1, 2].map((n) => counted(n, 'window'))).toEqual(['0 windows', '1 window', '2 windows']);
    expect(counted(1n, 'ballot')).toBe('1 ballot');
    expect(counted(1, 'entry', 'entries')).toBe('1 entry');
    expect(counted(3, 'entry', 'entries')).toBe('3 entries');
  });

  it('roots: "1 window, 1 ballot anchored", and the plural for more', () => {
    expect(formatRoots(rootsReport([1]))).toContain('  1 window, 1 ballot anchored\n');
    expect(formatRoots(rootsReport([2, 1]))).toContain('  2 windows, 3 ballots anchored\n');
    expect(formatRoots(rootsReport([]))).toContain('  0 windows, 0 ballots anchored\n');
  });

  it('audit: the chain, ledger, threads and verdict lines', () => {
    const one = formatAudit(auditReport({ windows: 1, rows: 1, threads: 1, errors: 0, warnings: 1 }));
    expect(one).toContain('1 window, 1 ballot anchored, closed with resultHash');
    expect(one).toContain(`(1 ballot)`);
    expect(one).toContain('ledger:   1 row (highest seq 0)');
    expect(one).toContain('with 1 worker thread (node engine)');
    expect(one).toContain('PASS: every check holds (1 warning).');
    const failed = formatAudit(auditReport({ windows: 2, rows: 2, threads: 2, errors: 1, warnings: 1 }));
    expect(failed).toContain('2 windows, 2 ballots anchored');
    expect(failed).toContain('ledger:   2 rows');
    expect(failed).toContain('with 2 worker threads');
    expect(failed).toContain('FAIL: 1 failed check, 1 warning.');
    expect(formatAudit(auditReport({ windows: 2, rows: 2, threads: 0, errors: 2, warnings: 0 }))).toContain(
      'FAIL: 2 failed checks, 0 warnings.',
    );
  });

  it('findings cut short: "… and 1 more … finding"', () => {
    const many = (n: number): Finding[] =>
      Array.from({ length: n }, (_, i) => ({ code: 'seq-gap', severity: 'error', message: `gap ${i}` }));
    expect(formatFindings(many(21)).at(-1)).toBe('  … and 1 more seq-gap finding (see --report)');
    expect(formatFindings(many(22)).at(-1)).toBe('  … and 2 more seq-gap findings (see --report)');
  });

  it("findings' messages: one ballot, one audit path entry", () => {
    expect(new SeqTracker().finish(1).map((f) => f.message)).toEqual([
      'the chain anchors 1 ballot but the ledger stops at seq -1: seq 0 not served',
    ]);
    const leaf = new Uint8Array(1);
    expect(() => rootFromInclusionProof(leaf, { leafIndex: 0, treeSize: 1, auditPath: [new Uint8Array(32)] })).toThrow(
      'audit path has 1 entry, more than the tree of 1 needs',
    );
  });
});
