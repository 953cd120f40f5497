// Least privilege in every long-running process: the API replicas and the anchor worker, started as
// processes the way compose runs them (migrations done beforehand as the owner), hold connections as the
// application role only; given the owner's or a superuser's URL instead, they refuse to start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startFaultStack, type FaultStack } from './fault/stack.js';
import { startService } from './fault/processes.js';
import { APP_ROLE } from '../ledger/src/db/migrate.js';
import { until } from './support/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

interface Backend {
  role: string;
  app: string;
}

/** Every connection to the ledger database but this test's own operator connection. */
async function backends(): Promise<Backend[]> {
  const rows = await stack.admin`
    SELECT usename AS role, application_name AS app FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND application_name <> 'tallyproof-test-operator'`;
  return rows.map((r) => ({ role: r.role as string, app: r.app as string }));
}

describe('connections of the running processes', () => {
  it('are all the application role: the API replicas, the worker and the queue backend', {
    timeout: 180_000,
  }, async () => {
    // Some traffic first, so every pool has opened what it opens under load.
    for (const url of stack.apiUrls) expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
    // The queue backend connects to PostgreSQL only when there is no Redis (REDIS_URL unset).
    const expected = ['tallyproof-api', 'tallyproof-worker', ...(stack.redisUrl ? [] : ['tallyproof-queue'])];
    const seen = await until(
      `connections named ${expected.join(', ')}`,
      async () => {
        const list = await backends();
        const apps = new Set(list.map((b) => b.app));
        return expected.every((a) => apps.has(a)) ? list : null;
      },
      120_000,
    );
    const roles = [...new Set(seen.map((b) => b.role))];
    expect(roles, JSON.stringify(seen)).toEqual([APP_ROLE]);
  });
});

describe('a process given the owner’s URL', () => {
  for (const [name, entry] of [
    ['API', 'api/src/server.ts'],
    ['anchor worker', 'anchor-worker/src/main.ts'],
  ] as const) {
    it(`the ${name} refuses to start, saying which role to use`, { timeout: 180_000 }, async () => {
      const child = await startService({
        name,
        command: process.execPath,
        args: ['--import', 'tsx', entry],
        cwd: ROOT,
        env: {
          ...(process.env as Record<string, string>),
          DATABASE_URL: stack.databaseUrl, // the superuser who owns the ledger tables
          REDIS_URL: '',
          PORT: '0',
          CHAIN_RPC_URL: stack.rpcUrl,
          CHAIN_PRIVATE_KEY: `0x${'11'.repeat(32)}`,
          CONTRACT_ADDRESS: stack.contractAddress,
          METRICS_PORT: '',
        },
      });
      const exit = await child.exited;
      expect(exit.code).not.toBe(0);
      expect(child.output()).toMatch(/is a superuser; connect as the application role tallyproof_app/);
      expect(await backends()).toSatisfy((list: Backend[]) => list.every((b) => b.role === APP_ROLE));
    });
  }
});
