// `npm run test:busy`: the whole suite, several times, while a bounded CPU hog keeps every core busy, as
// on a shared CI machine. Each hog is a process spinning at the same priority as the tests, and each one
// stops by itself after --max-minutes even if this script is killed. Prints each run's counts, the tests
// that failed in any run (a test that fails only under load waits on a clock instead of a condition), and
// ends with one line "N passed, N failed" over all runs; exits non-zero when any run failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';

const program = new Command('test:busy')
  .description('Run `npm test` several times while CPU hogs keep every core busy (bounded in time).')
  .option('--runs <n>', 'how many times to run the suite', '3')
  .option('--hogs <n>', 'spinning processes (default: one per core)', String(availableParallelism()))
  .option('--max-minutes <n>', 'each hog stops by itself after this long', '90')
  .argument('[vitest-args...]', 'passed to vitest, e.g. a folder (after --)')
  .parse();
const opts = program.opts<{ runs: string; hogs: string; maxMinutes: string }>();
const runs = Number(opts.runs);
const hogCount = Number(opts.hogs);
const maxMs = Number(opts.maxMinutes) * 60_000;
const vitestArgs = program.args;

// A hog: spins in slices of 50 ms, checking its own deadline, so it ends even when orphaned.
const HOG = `const end = Date.now() + ${maxMs}; while (Date.now() < end) { const t = Date.now() + 50; while (Date.now() < t); }`;
const hogs: ChildProcess[] = [];
function startHogs(): void {
  for (let i = 0; i < hogCount; i++) hogs.push(spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' }));
}
function stopHogs(): void {
  for (const h of hogs.splice(0)) h.kill('SIGKILL');
}
process.on('exit', stopHogs);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    stopHogs();
    process.exit(130);
  });

interface Report {
  numTotalTests: number;
  testResults: { name: string; status: string; assertionResults: { fullName: string; status: string }[] }[];
}

async function runSuite(
  index: number,
  reportFile: string,
): Promise<{ passed: number; failed: number; names: string[] }> {
  const started = Date.now();
  const child = spawn('npm', ['test', '--', ...vitestArgs], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, TALLYPROOF_TEST_JSON: reportFile },
  });
  await new Promise((resolve) => child.once('exit', resolve));
  let passed = 0;
  let failed = 0;
  const names: string[] = [];
  try {
    const r = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
    if (r.numTotalTests === 0) failed += 1;
    for (const file of r.testResults) {
      const bad = file.assertionResults.filter((t) => t.status === 'failed');
      passed += file.assertionResults.filter((t) => t.status === 'passed').length;
      failed += bad.length;
      names.push(...bad.map((t) => `${file.name}: ${t.fullName}`));
      if (file.status === 'failed' && bad.length === 0) {
        failed += 1;
        names.push(`${file.name}: failed to load or in a hook`);
      }
    }
  } catch {
    failed += 1;
    names.push('the test runner wrote no report');
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(`\n== busy run ${index}/${runs}: ${passed} passed, ${failed} failed (${minutes} min)\n`);
  return { passed, failed, names };
}

const dir = mkdtempSync(join(tmpdir(), 'tallyproof-busy-'));
let passed = 0;
let failed = 0;
const failures = new Map<string, number>();
startHogs();
process.stdout.write(`== ${hogCount} CPU hogs spinning (each stops by itself within ${opts.maxMinutes} min)\n`);
try {
  for (let i = 1; i <= runs; i++) {
    const r = await runSuite(i, join(dir, `run-${i}.json`));
    passed += r.passed;
    failed += r.failed;
    for (const n of r.names) failures.set(n, (failures.get(n) ?? 0) + 1);
  }
} finally {
  stopHogs();
  rmSync(dir, { recursive: true, force: true });
}
if (failures.size > 0) {
  process.stdout.write('\nfailed under load:\n');
  for (const [name, times] of failures) process.stdout.write(`  ${times}/${runs}  ${name}\n`);
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
