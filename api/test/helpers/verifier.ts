// `tallyproof-verify audit` of an election against a stack's API and chain, as a process: the independent
// implementation, checking what the server serves.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Stack } from '../../../test/support/stack.js';

const VERIFIER = fileURLToPath(new URL('../../../verifier-cli/bin/tallyproof-verify.js', import.meta.url));

export interface AuditRun {
  /** The exit code (0: every check passed, 1: findings). */
  code: number | null;
  out: string;
  /** The --json report, or null when stdout was not JSON. */
  report: any;
}

export function auditElection(stack: Stack, electionId: string): Promise<AuditRun> {
  const args = ['audit', '--election', electionId, '--api', stack.apiUrl, '--rpc', stack.rpcUrl];
  args.push('--contract', stack.contractAddress, '--threads', '1', '--no-progress', '--json');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VERIFIER, ...args],
      { timeout: 150_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        let report: any = null;
        try {
          report = JSON.parse(stdout);
        } catch {}
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: `${stdout}\n${stderr}`, report });
      },
    );
  });
}
