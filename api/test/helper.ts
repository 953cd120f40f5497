// `build()`: a fresh test database and the app listening on 127.0.0.1 (port 0), driven over real HTTP
// with fetch. A fake anchor queue records what the API asks of the worker.
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { testManifest, voters, type Voter } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed, type LedgerKey } from '../../ledger/src/ledger-key.js';
import type { Manifest } from '../../ledger/src/protocol/protocol.js';
import { buildApp, type AppOptions } from '../src/app.js';
import type { AnchorRequests } from '../../jobs/src/index.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export class FakeAnchorRequests implements AnchorRequests {
  readonly registrations: string[] = [];
  readonly closes: string[] = [];
  failing = false;
  async requestRegistration(electionId: string): Promise<void> {
    if (this.failing) throw new Error('queue down');
    this.registrations.push(electionId);
  }
  async requestClose(electionId: string): Promise<void> {
    if (this.failing) throw new Error('queue down');
    this.closes.push(electionId);
  }
  async close(): Promise<void> {}
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApi {
  url: string;
  app: FastifyInstance;
  db: TestDatabase;
  ledgerKey: LedgerKey;
  anchor: FakeAnchorRequests;
  request<T = any>(
    method: string,
    path: string,
    opts?: { json?: unknown; body?: string; headers?: Record<string, string>; admin?: boolean },
  ): Promise<HttpResult<T>>;
  /** Create an open election with `n` voters through the admin API. */
  election(id: string, n: number, over?: Partial<Manifest>): Promise<{ manifest: Manifest; voters: Voter[] }>;
  close(): Promise<void>;
}

export const testLedgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 7));

export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { json?: unknown; body?: string; headers?: Record<string, string>; admin?: boolean } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  }
  if (opts.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export async function build(opts: Partial<AppOptions> & { db?: TestDatabase } = {}): Promise<TestApi> {
  const db = opts.db ?? (await createTestDatabase());
  const anchor = new FakeAnchorRequests();
  const app = await buildApp({
    sql: db.app,
    ledgerKey: testLedgerKey,
    adminToken: ADMIN_TOKEN,
    verifyThreads: 1,
    rollCheckThreads: 2,
    anchorRequests: anchor,
    chain: { chainId: 31337, contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    processMetrics: false,
    resultsPollMs: 100,
    ...opts,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const api: TestApi = {
    url,
    app,
    db,
    ledgerKey: testLedgerKey,
    anchor,
    request: (method, path, o) => request(url, method, path, o),
    async election(id, n, over = {}) {
      const manifest = testManifest(id, testLedgerKey.publicKeyHex, over);
      const vs = voters(n, `${id}-`);
      const r = await api.request('POST', '/api/v1/elections', {
        admin: true,
        json: { manifest, roll: vs.map((v) => v.credential) },
      });
      if (r.status !== 201) throw new Error(`election ${id}: ${r.status} ${r.text}`);
      return { manifest, voters: vs };
    },
    async close() {
      await app.close();
      if (!opts.db) await db.drop();
    },
  };
  return api;
}

/** Rows in the ledger tables and refusals counted, to check that refused input changed nothing but the audit counts. */
export async function ledgerCounts(db: TestDatabase, electionId: string) {
  const [b] = await db.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${electionId}`;
  const [h] = await db.admin`SELECT next_seq FROM election_heads WHERE election_id = ${electionId}`;
  const [r] = await db.admin`SELECT coalesce(sum(count), 0)::int AS n FROM rejected_attempt_counts`;
  return { ballots: b!.n as number, nextSeq: Number(h?.next_seq ?? -1), rejected: r!.n as number };
}
