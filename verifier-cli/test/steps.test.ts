// The audit's pure steps, one by one, and the closed set of finding codes.
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { RowCheckPool } from '../src/audit/pool.js';
import { parseLedgerRow } from '../src/audit/ledger-row.js';
import { unpackRows } from '../src/audit/packed-rows.js';
import { checkLedgerBlock, checkLedgerRow, type RowContext } from '../src/audit/row-check.js';
import { SeqTracker } from '../src/audit/seq.js';
import { compareClose, compareResults, Recount } from '../src/audit/tally.js';
import { checkWindowRanges, WindowChecker, windowRoot } from '../src/audit/windows.js';
import type { ChainWindow } from '../src/chain.js';
import { FINDING_CODES, isFindingCode, VerificationError } from '../src/errors.js';
import { fromHex, toHex } from '../src/hex.js';
import { ballotRules, manifestProblem, resultHash } from '../src/protocol.js';
import { terminalProgress } from '../src/output.js';
import { parseRollText } from '../src/roll.js';
import { ledgerBlocks } from '../src/sources/ledger-blocks.js';
import { castBallot, makeManifest, makeVoter, rowLine, selectionsFor } from './support/election.js';

const manifest = makeManifest('steps-2026', toHex(ed25519.getPublicKey(new Uint8Array(32))));
const rules = ballotRules(manifest as never);
const context: RowContext = { rules, engine: 'node' };
const voters = Array.from({ length: 6 }, (_, i) => makeVoter(`steps-${i}`));
const rows = voters.map((v, i) => castBallot(v, manifest.electionId, selectionsFor(i), i));

describe('test support', () => {
  it('signs the same way with node:crypto and with noble', () => {
    const [a, b] = [makeVoter('same', 'node'), makeVoter('same', 'noble')];
    expect(a.credential).toBe(b.credential);
    const message = new TextEncoder().encode('tallyproof:ballot:v1:{}');
    expect(a.sign(message).toString('hex')).toBe(b.sign(message).toString('hex'));
  });
});

describe('finding codes', () => {
  it('form a closed set of kebab-case codes, and VerificationError carries one', () => {
    expect(new Set(FINDING_CODES).size).toBe(FINDING_CODES.length);
    for (const code of FINDING_CODES) expect(code).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
    expect(isFindingCode('bad-signature')).toBe(true);
    expect(isFindingCode('bad-vibes')).toBe(false);
    const err = new VerificationError('window-root-mismatch', 'window 3: …', { window: 3 });
    expect(err.toFinding()).toEqual({
      code: 'window-root-mismatch',
      severity: 'error',
      message: 'window 3: …',
      window: 3,
    });
  });

  it('are each explained in docs/auditors.md', () => {
    const doc = readFileSync(new URL('../../docs/auditors.md', import.meta.url), 'utf8');
    const missing = FINDING_CODES.filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});

describe('ledger blocks', () => {
  const text = 'un\r\ndeux é\n\n  \ntrois 😀\nquatre';
  const bytes = Buffer.from(text, 'utf8');
  const chunked = (size: number) =>
    (async function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })();

  it('cut a stream into whole lines, whatever the chunking, and count them', async () => {
    for (const [size, target] of [
      [1, 1],
      [2, 4],
      [3, 7],
      [5, 1],
      [64, 1],
      [64, 1 << 20],
    ] as const) {
      const blocks = [];
      for await (const b of ledgerBlocks(chunked(size), target)) blocks.push(b);
      const joined = Buffer.concat(blocks.map((b) => b.bytes)).toString('utf8');
      expect(joined).toBe(text);
      for (const b of blocks.slice(0, -1)) expect(b.bytes.at(-1)).toBe(0x0a);
      expect(blocks.reduce((n, b) => n + b.lines, 0)).toBe(6);
    }
  });

  it('split in the worker on LF and CRLF, skipping blank lines, with physical line numbers', () => {
    const results = checkLedgerBlock(
      Buffer.from(`${rowLine(rows[0]!)}\r\n\n${rowLine(rows[1]!)}\nnot json\n`),
      10,
      context,
    );
    expect(results.map((r) => [r.line, r.seq])).toEqual([
      [10, 0],
      [12, 1],
      [13, -1],
    ]);
    expect(results[2]!.problems[0]!.message).toBe('line 13: not JSON');
  });

  it('report a line that is not UTF-8 as malformed', () => {
    const results = checkLedgerBlock(
      Buffer.concat([Buffer.from('{\xff}\n', 'latin1'), Buffer.from(rowLine(rows[0]!))]),
      1,
      context,
    );
    expect(results.map((r) => [r.line, r.problems[0]?.message ?? 'ok'])).toEqual([
      [1, 'line 1: not UTF-8'],
      [2, 'ok'],
    ]);
  });

  it('reads a roll as a JSON array or one key per line', () => {
    expect(parseRollText('["aa","bb"]')).toEqual(['aa', 'bb']);
    expect(parseRollText('aa\r\n"bb"\n\n')).toEqual(['aa', 'bb']);
  });
});

describe('row check', () => {
  it('accepts an honest row, with the ballot as an object or as its stored JCS text', () => {
    const r = rows[2]!;
    for (const line of [
      rowLine(r),
      JSON.stringify({
        seq: 2,
        ballotHash: r.ballotHash,
        ballot: r.ballotText,
        signature: r.signature,
        receivedAt: r.receivedAt,
      }),
    ]) {
      const result = checkLedgerRow(line, 3, context);
      expect(result.problems).toEqual([]);
      expect(result).toMatchObject({
        seq: 2,
        leaf: r.ballotHash,
        credential: r.ballot.credential,
        signatureValid: true,
      });
    }
  });

  it('says why a line is not a row', () => {
    const r = rows[0]!;
    const base = {
      seq: 0,
      ballotHash: r.ballotHash,
      ballot: r.ballot,
      signature: r.signature,
      receivedAt: r.receivedAt,
    };
    expect(parseLedgerRow('nope')).toBe('not JSON');
    expect(parseLedgerRow('[]')).toBe('not a JSON object');
    expect(parseLedgerRow(JSON.stringify({ ...base, seq: -1 }))).toMatch(/seq/);
    expect(parseLedgerRow(JSON.stringify({ ...base, seq: 1.5 }))).toMatch(/seq/);
    expect(parseLedgerRow(JSON.stringify({ ...base, ballotHash: r.ballotHash.toUpperCase() }))).toMatch(/ballotHash/);
    expect(parseLedgerRow(JSON.stringify({ ...base, signature: 'ab' }))).toMatch(/signature/);
    expect(parseLedgerRow(JSON.stringify({ ...base, receivedAt: '2026-02-30T00:00:00.000Z' }))).toMatch(/receivedAt/);
    expect(parseLedgerRow(JSON.stringify({ ...base, ballot: null }))).toMatch(/ballot/);
    expect(parseLedgerRow(JSON.stringify({ ...base, ballot: '{oops' }))).toMatch(/ballot text/);
    expect(checkLedgerRow('nope', 7, context).problems).toEqual([
      { code: 'malformed-line', message: 'line 7: not JSON' },
    ]);
  });

  it('reports every problem of a row, each naming the seq', () => {
    const r = rows[1]!;
    const wrongElection = { ...r.ballot, electionId: 'other-2026' };
    const line = `{"seq":1,"ballotHash":"${'00'.repeat(32)}","ballot":${JSON.stringify(wrongElection)},"signature":"${r.signature}","receivedAt":"${r.receivedAt}"}`;
    const result = checkLedgerRow(line, 2, context);
    expect(result.problems.map((p) => p.code)).toEqual([
      'not-canonical',
      'ballot-invalid',
      'ballot-hash-mismatch',
      'bad-signature',
    ]);
    for (const p of result.problems) expect(p.message).toMatch(/^seq 1: /);
    expect(result.choices).toBeNull();
  });

  it('gives the same results inline and on worker threads (esbuild bundle): rows, roll points, tree heads', async () => {
    const block = () => Buffer.from([...rows.map(rowLine), 'garbage'].join('\n'));
    const inline = new RowCheckPool(context, 0);
    const threaded = new RowCheckPool(context, 2);
    try {
      const expected = await inline.check(block(), 1);
      expect(unpackRows(expected)).toHaveLength(7);
      expect(unpackRows(expected)).toEqual(checkLedgerBlock(block(), 1, context));
      expect(await threaded.check(block(), 1)).toEqual(expected);
      const offCurve = '02' + '00'.repeat(31); // y = 2: canonical, but no x satisfies the curve equation
      const keys = [voters[0]!.credential, offCurve];
      expect(await threaded.checkRollPoints(keys)).toEqual(['roll key 020000000000… is refused (key-not-on-curve)']);
      expect(await inline.checkRollPoints(keys)).toEqual(['roll key 020000000000… is refused (key-not-on-curve)']);
      const leaves = rows.map((r) => Buffer.from(r.ballotHash, 'hex'));
      const expectedRoot = windowRoot(rows.map((r) => r.ballotHash));
      expect(toHex(await threaded.treeHead(Buffer.concat(leaves)))).toBe(expectedRoot);
      expect(toHex(await inline.treeHead(Buffer.concat(leaves)))).toBe(expectedRoot);
    } finally {
      await threaded.close();
    }
  });
});

describe('seq tracker', () => {
  it('finds repeats, backward steps, gaps and a short ledger', () => {
    const t = new SeqTracker();
    const seen = [0, 1, 3, 3, 2, 6].map((s) => t.observe(s)?.code ?? null);
    expect(seen).toEqual([null, null, null, 'duplicate-seq', 'seq-out-of-order', null]);
    const end = t.finish(9);
    expect(end.map((f) => [f.code, f.seq, f.message])).toEqual([
      ['seq-gap', 4, 'seq 4..5 missing from the ledger (rows run up to seq 6)'],
      ['missing-ballot', 7, 'the chain anchors 9 ballots but the ledger stops at seq 6: seq 7..8 not served'],
    ]);
  });

  it('does not allocate for an absurd seq', () => {
    const t = new SeqTracker();
    expect(t.observe(Number.MAX_SAFE_INTEGER)?.code).toBe('seq-gap');
    expect(t.maxSeq).toBe(-1);
  });
});

describe('windows', () => {
  const leaves = rows.map((r) => r.ballotHash);
  const leafBytes = leaves.map(fromHex);
  const w = (index: number, firstSeq: number, count: number): ChainWindow => ({
    index,
    firstSeq,
    count,
    root: windowRoot(leaves.slice(firstSeq, firstSeq + count)),
    anchoredAt: 0,
  });

  it('checks contiguity from seq 0', () => {
    expect(checkWindowRanges([w(0, 0, 2), w(1, 2, 3)])).toEqual([]);
    expect(checkWindowRanges([w(0, 1, 2), w(1, 3, 1), w(2, 5, 1)]).map((f) => f.window)).toEqual([0, 2]);
  });

  it('recomputes each window once complete, whatever the arrival order, and names the window', () => {
    const windows = [w(0, 0, 2), w(1, 2, 3), { ...w(2, 5, 1), root: '00'.repeat(32) }];
    const checker = new WindowChecker(windows);
    for (const seq of [1, 0, 4, 2, 3, 5]) checker.add(seq, leafBytes[seq]!);
    expect(checker.finish().map((f) => [f.code, f.window])).toEqual([['window-root-mismatch', 2]]);
  });

  it('keeps the first row of a repeated seq, in order or not', () => {
    const forged = fromHex('ab'.repeat(32));
    for (const order of [
      [0, 0, 1, 2, 2, 3, 4],
      [0, 1, 2, 4, 2, 3],
      [4, 3, 2, 1, 0, 0],
    ]) {
      const checker = new WindowChecker([w(0, 0, 2), w(1, 2, 3)]);
      const seen = new Set<number>();
      for (const seq of order) {
        checker.add(seq, seen.has(seq) ? forged : leafBytes[seq]!);
        seen.add(seq);
      }
      expect(checker.finish(), `order ${order.join(',')}`).toEqual([]);
    }
    const checker = new WindowChecker([w(0, 0, 2), w(1, 2, 3)]);
    for (const [seq, leaf] of [
      [0, forged],
      [0, leafBytes[0]!],
      [1, leafBytes[1]!],
      [2, leafBytes[2]!],
      [3, leafBytes[3]!],
      [4, leafBytes[4]!],
    ] as const)
      checker.add(seq, leaf);
    expect(checker.finish().map((f) => [f.code, f.window, f.seq])).toEqual([['window-root-mismatch', 0, undefined]]);
  });

  it('names the first missing seqs of a large window, in order or not', () => {
    const many = Array.from({ length: 40 }, (_, i) => fromHex(i.toString(16).padStart(64, '0')));
    const root = windowRoot(many.map((l) => toHex(l)));
    for (const held of [[0, 1, 2, 3, 10, 20, 30], [30, 3, 20, 0, 1, 10, 2], [39]]) {
      const checker = new WindowChecker([{ index: 0, firstSeq: 0, count: 40, root, anchoredAt: 0 }]);
      for (const seq of held) checker.add(seq, many[seq]!);
      const [f] = checker.finish();
      const missing = Array.from({ length: 40 }, (_, i) => i).filter((i) => !held.includes(i));
      expect(f?.seq).toBe(missing[0]);
      expect(f?.message).toContain(
        `holds ${held.length} of its 40 ballots (missing ${missing
          .slice(0, 5)
          .map((s) => `seq ${s}`)
          .join(', ')}, …)`,
      );
    }
  });

  it('reports a window with a missing row, one with none, and unanchored rows', () => {
    const checker = new WindowChecker([w(0, 0, 2), w(1, 2, 3), w(2, 5, 1)]);
    for (const seq of [0, 1, 2, 4]) checker.add(seq, leafBytes[seq]!);
    checker.add(6, fromHex('ab'.repeat(32)));
    const found = checker.finish();
    expect(found.map((f) => [f.code, f.window, f.seq])).toEqual([
      ['window-root-mismatch', 1, 3],
      ['missing-ballot', 2, 5],
    ]);
    expect(found[0]!.message).toMatch(/holds 2 of its 3 ballots \(missing seq 3\)/);
    expect([checker.unanchoredRows, checker.firstUnanchoredSeq]).toEqual([1, 6]);
  });
});

describe('tally', () => {
  it('compares published results as of their asOfSeq, every choice', () => {
    const recount = new Recount(rules, 1);
    for (const r of rows.slice(0, 3)) recount.add(r.seq, checkLedgerRow(rowLine(r), 1, context).choices!);
    const asOf = recount.tallyAsOf();
    expect(
      compareResults({ electionId: 'steps-2026', tally: asOf, totalBallots: 2, asOfSeq: 1 }, 'steps-2026', recount),
    ).toEqual([]);
    const wrong = structuredClone(asOf);
    wrong.council!.bo! += 1;
    wrong.extra = { x: 1 };
    const found = compareResults(
      { electionId: 'steps-2026', tally: wrong, totalBallots: 3, asOfSeq: 1 },
      'steps-2026',
      recount,
    );
    expect(found.map((f) => f.code)).toEqual(['tally-mismatch', 'tally-mismatch', 'tally-mismatch']);
    expect(found.map((f) => f.message).join('\n')).toMatch(/council\/bo = 1, the recount 0/);
  });

  it('compares the close with the recount', () => {
    const recount = new Recount(rules);
    for (const r of rows) recount.add(r.seq, checkLedgerRow(rowLine(r), 1, context).choices!);
    const honest = { resultHash: toHex(resultHash('steps-2026', recount.tally(), 6)), totalBallots: 6 };
    expect(compareClose(honest, 'steps-2026', recount, 6)).toEqual([]);
    expect(compareClose({ ...honest, totalBallots: 5 }, 'steps-2026', recount, 6).map((f) => f.code)).toEqual([
      'total-ballots-mismatch',
    ]);
    expect(
      compareClose({ ...honest, resultHash: 'ff'.repeat(32) }, 'steps-2026', recount, 6).map((f) => f.code),
    ).toEqual(['result-hash-mismatch']);
  });
});

describe('manifest', () => {
  it('refuses what is not a stored v1 manifest', () => {
    expect(manifestProblem(manifest)).toBeNull();
    expect(manifestProblem({ ...manifest, extra: 1 })).toMatch(/exactly the keys/);
    expect(manifestProblem({ ...manifest, windowSeconds: 0 })).toMatch(/windowSeconds/);
    expect(manifestProblem({ ...manifest, ledgerKey: 'AB' })).toMatch(/ledgerKey/);
    const repeated = structuredClone(manifest);
    repeated.contests[1]!.id = 'q1';
    expect(manifestProblem(repeated)).toMatch(/unique id/);
  });
});

describe('progress bar', () => {
  it('draws on a terminal only', () => {
    const pipe = Object.assign(new PassThrough(), { isTTY: false });
    expect(terminalProgress(pipe, true)).toBeUndefined();
    const tty = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    expect(terminalProgress(tty, false)).toBeUndefined();
    let drawn = '';
    tty.on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const bar = terminalProgress(tty, true)!;
    bar.start(2_000_000, 'bytes');
    bar.update(1_000_000);
    bar.update(3_000_000);
    bar.stop();
    expect(drawn).toMatch(/ledger/);
  });
});
