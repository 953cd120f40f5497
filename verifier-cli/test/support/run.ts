// Runs the CLI in-process and captures what it prints.
import { readFileSync } from 'node:fs';
import { runCli } from '../../src/cli.js';
import type { Finding } from '../../src/errors.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

export function readReport<T = { findings: Finding[]; verdict: string }>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Findings as "code@seq/window" strings, for compact assertions. */
export function where(findings: readonly Finding[]): string[] {
  return findings.map(
    (f) => `${f.code}${f.seq === undefined ? '' : `@seq${f.seq}`}${f.window === undefined ? '' : `@w${f.window}`}`,
  );
}
