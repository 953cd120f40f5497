// bench/read-path.ts at a tiny size: it runs to the end against the run's PostgreSQL, writes every figure,
// and its checks of behaviour hold (each subscriber got every change event, the API held every stream).
// Figures are only checked to be measured (positive numbers), never compared with a time.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tallyproof-read-path-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const positive = expect.any(Number);
function expectPositive(value: unknown, what: string): void {
  expect(value, what).toEqual(positive);
  expect(value as number, what).toBeGreaterThan(0);
}

describe('bench:read-path smoke run', () => {
  it('measures receipts, tiles, results and streams and writes them', { timeout: 300_000 }, async () => {
    const out = join(dir, 'read-path.json');
    const args = ['--ballots', '3000', '--small', '300', '--duration', '1', '--connections', '8'];
    args.push('--subscribers', '50', '--samples', '1000', '--out', out);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/read-path.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: inject('databaseUrl') }, timeout: 280_000 },
    );
    expect(stdout).toMatch(/receipts, 3,000-ballot window: \d+\/s/);
    const r = JSON.parse(readFileSync(out, 'utf8'));

    expect(r.windows).toEqual({ big: 3000, small: 300 });
    for (const w of ['big', 'small'] as const) {
      expect(r.seal[w].ballots).toBe(r.windows[w]);
      for (const k of ['hashMs', 'tilesMs', 'lockedMs', 'totalMs', 'ratioToBudget', 'tiles', 'tileBytes'])
        expectPositive(r.seal[w][k], `seal.${w}.${k}`);
    }
    // 3,000 leaves: 11 full level-0 tiles and a partial one, then one partial tile at level 1.
    expect(r.seal.big.tiles).toBe(13);
    expect(r.tiles.level0Tiles).toBe(12);

    for (const bare of [r.ceiling.before, r.ceiling.after]) expectPositive(bare.requestsPerSecond, 'bare');
    expect(r.ceiling.requestsPerSecond).toBe(
      Math.max(r.ceiling.before.requestsPerSecond, r.ceiling.after.requestsPerSecond),
    );
    for (const [name, run] of [
      ['receipts.big', r.receipts.big],
      ['receipts.small', r.receipts.small],
      ['tiles', r.tiles],
      ['results', r.results],
    ] as const) {
      for (const k of [
        'requestsPerSecond',
        'answered200',
        'p50Ms',
        'p99Ms',
        'ratioToBare',
        'ratioToBareByCpu',
        'apiCpuMicrosPerRequest',
      ])
        expectPositive(run[k], `${name}.${k}`);
      // PostgreSQL's share is read in /proc: 0 only when the server is on another machine.
      expect(run.postgresCpuMicrosPerRequest, name).toBeGreaterThanOrEqual(0);
      expect(run.serverCpuMicrosPerRequest, name).toBeGreaterThanOrEqual(run.apiCpuMicrosPerRequest);
      expect(run.ratioToBare).toBeCloseTo(run.requestsPerSecond / r.ceiling.requestsPerSecond, 2);
      // Every answer was a 200: no 404 for a sampled hash or tile, no 429 (rate limits off), no 5xx.
      expect(run.otherStatuses, name).toEqual({});
      expect(run.socketErrors, name).toBe(0);
    }
    expectPositive(r.receipts.cpuPerProofRatioBigToSmall, 'cpuPerProofRatioBigToSmall');
    expectPositive(r.receipts.serverCpuPerProofRatioBigToSmall, 'serverCpuPerProofRatioBigToSmall');
    expect(r.receipts.samples).toEqual({ big: 1000, small: 300 });
    expectPositive(r.results.firstRequestMs, 'results.firstRequestMs');

    const s = r.streams;
    expect(s).toMatchObject({ subscribers: 50, opened: 50, failedToOpen: 0, heldByApi: 50 });
    expect(s.memoryBefore.streams).toBe(0);
    expect(s.memoryAfter.collected).toBe(true);
    for (const k of ['rss', 'heapUsed']) {
      expectPositive(s.memoryBefore[k], `memoryBefore.${k}`);
      expectPositive(s.memoryAfter[k], `memoryAfter.${k}`);
    }
    expect(s.events).toHaveLength(3);
    s.events.forEach((e: { seq: number; delivered: number; of: number; msToLast: number }, i: number) => {
      expect(e).toMatchObject({ seq: 300 + i, delivered: 50, of: 50 });
      expectPositive(e.msToLast, `events[${i}].msToLast`);
    });
  });
});
