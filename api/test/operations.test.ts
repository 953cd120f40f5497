// Health, metrics, OpenAPI docs, the static-page hook, configuration errors, the error table's
// documentation, unknown routes and the shutting-down answer.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { ballotFor } from '../../test/support/fixtures.js';
import { ConfigError } from '../../ledger/src/config.js';
import { loadConfig } from '../../scripts/config.js';
import { DEFAULT_RATE_LIMITS } from '../src/services/rate-limits.js';
import { ERROR_CODES } from '../../ledger/src/protocol/errors.js';
import { sealWindow } from '../../ledger/src/index.js';
import { build, type TestApi } from './helper.js';

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
let api: TestApi;

beforeAll(async () => {
  api = await build({ processMetrics: true });
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/health', () => {
  it('ok with the database up; chain and queue unknown without a probe', async () => {
    const r = await api.request('GET', '/api/v1/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', database: 'up', chain: 'unknown', queue: 'unknown', chainId: 31337 });
  });

  it('degraded (200) when the chain or the queue is down', async () => {
    for (const deps of [
      { chain: 'down', queue: 'up' },
      { chain: 'up', queue: 'down' },
    ] as const) {
      const d = await build({ db: api.db, dependencies: async () => deps });
      try {
        const r = await d.request('GET', '/api/v1/health');
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ status: 'degraded', database: 'up', ...deps });
      } finally {
        await d.app.close();
      }
    }
    // a probe that hangs or throws counts as down
    const hang = await build({ db: api.db, dependencies: () => new Promise(() => {}) });
    try {
      const r = await hang.request('GET', '/api/v1/health');
      expect(r.body).toMatchObject({ status: 'degraded', chain: 'down', queue: 'down' });
    } finally {
      await hang.app.close();
    }
  });

  it('503 down when the database is down', async () => {
    const dead = postgres('postgres://nobody@127.0.0.1:1/none', { max: 1, connect_timeout: 1, onnotice: () => {} });
    const d = await build({ db: { ...api.db, app: dead }, dependencies: async () => ({ chain: 'up', queue: 'up' }) });
    try {
      const r = await d.request('GET', '/api/v1/health');
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ status: 'down', database: 'down' });
      const m = await d.request('GET', '/metrics');
      expect(m.text).toMatch(/^tallyproof_db_up 0$/m);
    } finally {
      await d.app.close();
      await dead.end({ timeout: 1 });
    }
  });
});

describe('GET /metrics', () => {
  it('exposes ingest counters by reason, batch histograms, windows, anchor lag, pool and process metrics', async () => {
    const { voters } = await api.election('metrics', 3);
    await api.request('POST', '/api/v1/elections/metrics/ballots', { json: ballotFor(voters[0]!, 'metrics') });
    await api.request('POST', '/api/v1/elections/metrics/ballots', { json: ballotFor(voters[0]!, 'metrics') });
    await api.request('POST', '/api/v1/elections/metrics/ballots', {
      json: ballotFor(voters[0]!, 'metrics', { q1: ['non'], council: [] }),
    });
    await api.request('POST', '/api/v1/elections/metrics/ballots', {
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    await api.request('POST', '/api/v1/elections/metrics/ballots', {
      json: ballotFor(voters[1]!, 'metrics', { q1: [], council: [] }),
    });
    // Seal the one ballot into window 0 as the anchor worker does, and record it anchored.
    expect(await sealWindow(api.db.app, 'metrics')).not.toBeNull();
    await api.db
      .app`UPDATE windows SET anchor_tx = '0x01', anchor_block = 1, anchored_at = now() WHERE election_id = 'metrics' AND window_index = 0`;
    const r = await api.request('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const m = r.text;
    expect(m).toMatch(/^tallyproof_ballots_received_total 5$/m);
    expect(m).toMatch(/^tallyproof_ballots_accepted_total 1$/m);
    expect(m).toMatch(/^tallyproof_ballots_resubmitted_total 1$/m);
    expect(m).toMatch(/^tallyproof_ballots_duplicate_total 1$/m);
    expect(m).toMatch(/^tallyproof_ballots_rejected_total\{reason="malformed-json"\} 1$/m);
    expect(m).toMatch(/^tallyproof_ballots_rejected_total\{reason="invalid-selections"\} 1$/m);
    expect(m).toMatch(/^tallyproof_ingest_batch_size_count \d+$/m);
    expect(m).toMatch(/^tallyproof_ingest_batch_seconds_bucket\{le="0.01"\} \d+$/m);
    expect(m).toMatch(/^tallyproof_windows_sealed 1$/m);
    expect(m).toMatch(/^tallyproof_windows_anchored 1$/m);
    expect(m).toMatch(/^tallyproof_anchor_lag_seconds 0$/m);
    expect(m).toMatch(/^tallyproof_db_up 1$/m);
    expect(m).toMatch(/^tallyproof_db_pool_size \d+$/m);
    expect(m).toMatch(/^tallyproof_ingest_queue_depth 0$/m);
    expect(m).toMatch(/^process_cpu_seconds_total /m);
    // an unanchored ballot makes the lag positive
    await api.request('POST', '/api/v1/elections/metrics/ballots', { json: ballotFor(voters[2]!, 'metrics') });
    await new Promise((r) => setTimeout(r, 20));
    const lag = Number(/^tallyproof_anchor_lag_seconds (\S+)$/m.exec((await api.request('GET', '/metrics')).text)![1]);
    expect(lag).toBeGreaterThan(0);
  });
});

describe('GET /docs', () => {
  it('serves the OpenAPI document with every route of the API table, and the UI', async () => {
    const spec = (await api.request('GET', '/docs/json')).body;
    expect(spec.openapi).toMatch(/^3\./);
    const paths = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    for (const route of [
      'POST /api/v1/elections',
      'GET /api/v1/elections/{electionId}',
      'POST /api/v1/elections/{electionId}/ballots',
      'GET /api/v1/receipts/{ballotHash}',
      'GET /api/v1/elections/{electionId}/windows',
      'GET /api/v1/elections/{electionId}/ledger',
      'GET /api/v1/elections/{electionId}/results',
      'GET /api/v1/elections/{electionId}/results/stream',
      'POST /api/v1/elections/{electionId}/close',
      'PUT /api/v1/elections/{electionId}/roll',
      'POST /api/v1/elections/{electionId}/roll/finalize',
      'GET /api/v1/health',
      'GET /metrics',
    ])
      expect(paths, route).toContain(route);
    const ballot = spec.paths['/api/v1/elections/{electionId}/ballots'].post;
    expect(Object.keys(ballot.responses)).toEqual(expect.arrayContaining(['200', '201', '409']));
    const ui = await api.request('GET', '/docs');
    expect([200, 302]).toContain(ui.status);
    expect((await fetch(`${api.url}/docs/static/index.html`)).status).toBe(200);
  });
});

describe('web pages hook', () => {
  it('a placeholder linking to /docs until web/dist exists', async () => {
    const r = await api.request('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(r.text).toContain('href="/docs"');
  });

  it('serves WEB_DIR: / is index.html, /results/{id} results.html, assets by path; API routes win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tallyproof-web-'));
    writeFileSync(join(dir, 'index.html'), '<p>voter page</p>');
    writeFileSync(join(dir, 'results.html'), '<p>results page</p>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    const web = await build({ db: api.db, webDir: dir });
    try {
      expect((await web.request('GET', '/')).text).toBe('<p>voter page</p>');
      expect((await web.request('GET', '/results/metrics')).text).toBe('<p>results page</p>');
      expect((await web.request('GET', '/app.js')).text).toBe('console.log(1)');
      expect((await web.request('GET', '/api/v1/elections/metrics')).status).toBe(200);
      const missing = await web.request('GET', '/api/v1/nothing-here');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not-found');
    } finally {
      await web.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('errors', () => {
  it('unknown routes and methods: 404 not-found in the error format', async () => {
    for (const [m, p] of [
      ['GET', '/api/v1/nothing'],
      ['DELETE', '/api/v1/elections/metrics'],
      ['GET', '/api/v2/elections'],
    ] as const) {
      const r = await api.request(m, p);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'not-found', message: expect.any(String) } });
    }
    const bad = await api.request('GET', '/api/v1/elections/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid-query');
  });

  it('api/README.md documents every error code of the table, and no other', () => {
    const readme = readFileSync(join(root, 'api/README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Errors'));
    const documented = new Map(
      [...section.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    for (const [code, { status }] of Object.entries(ERROR_CODES))
      expect(documented.get(code), `api/README.md misses ${code}`).toBe(status);
    for (const code of documented.keys())
      expect(Object.keys(ERROR_CODES), `api/README.md lists a stale code ${code}`).toContain(code);
  });

  it('answers 503 unavailable with Retry-After while shutting down', async () => {
    const d = await build({ db: api.db });
    d.app.tp.closing = true;
    const r = await d.request('GET', '/api/v1/health');
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(r.body.error.code).toBe('unavailable');
    d.app.tp.closing = false;
    await d.app.close();
  });
});

describe('configuration', () => {
  it('loadConfig names the malformed variable', () => {
    const bad: Record<string, string> = {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'nope',
      CHAIN_RPC_URL: 'ftp://x',
      CHAIN_PRIVATE_KEY: '0x12',
      CONTRACT_ADDRESS: '0xzz',
      ADMIN_TOKEN: 'short',
      BALLOT_RATE_LIMIT: '-1',
      RATE_LIMIT: '1.5',
      CHAIN_CONFIRMATIONS: '0',
      LOG_LEVEL: 'loud',
      TRUST_PROXY: 'yes',
      DATABASE_POOL_SIZE: '0',
      VERIFY_THREADS: 'all',
      SHUTDOWN_TIMEOUT_SECONDS: '0',
      PUBLIC_CHAIN_RPC_URL: 'ws://rpc.example.org',
    };
    for (const [name, value] of Object.entries(bad)) {
      let err: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(name);
    }
    const ok = loadConfig({});
    expect(ok).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: null,
      rateLimits: DEFAULT_RATE_LIMITS,
      trustProxy: 0,
      databasePoolSize: 10,
      verifyThreads: 0,
    });
  });

  it('PUBLIC_CHAIN_RPC_URL: an http(s) URL without credentials; unset is null, never CHAIN_RPC_URL', () => {
    const message = (value: string) => {
      try {
        loadConfig({ PUBLIC_CHAIN_RPC_URL: value });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).variable).toBe('PUBLIC_CHAIN_RPC_URL');
        return (e as Error).message;
      }
      throw new Error(`${value} was accepted`);
    };
    expect(message('rpc.example.org:8545')).toMatch(
      /^PUBLIC_CHAIN_RPC_URL: must use http: or https:, got rpc\.example\.org: \(browsers read the chain over HTTP/,
    );
    expect(message('not a url')).toMatch(/^PUBLIC_CHAIN_RPC_URL: is not a URL \(browsers read the chain over HTTP/);
    expect(message('wss://rpc.example.org')).toMatch(/^PUBLIC_CHAIN_RPC_URL: must use http: or https:, got wss:/);
    expect(message('https://user:secret@rpc.example.org')).toMatch(
      /^PUBLIC_CHAIN_RPC_URL: must not contain a user name or password/,
    );
    expect(loadConfig({ PUBLIC_CHAIN_RPC_URL: ' https://rpc.example.org/v1 ' }).publicChainRpcUrl).toBe(
      'https://rpc.example.org/v1',
    );
    expect(loadConfig({ PUBLIC_CHAIN_RPC_URL: 'http://127.0.0.1:8545' }).publicChainRpcUrl).toBe(
      'http://127.0.0.1:8545',
    );
    expect(loadConfig({ CHAIN_RPC_URL: 'http://validator-1:8545' }).publicChainRpcUrl).toBeNull();
    expect(
      loadConfig({ CHAIN_RPC_URL: 'http://validator-1:8545', PUBLIC_CHAIN_RPC_URL: '' }).publicChainRpcUrl,
    ).toBeNull();
  });

  it('the server refuses to start on a malformed variable with a clear message', async () => {
    const err = await execFileP(process.execPath, ['--import', 'tsx', join(root, 'api/src/server.ts')], {
      env: { ...process.env, PORT: 'eighty' },
      cwd: root,
    }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/configuration error: PORT: must be an integer/);
    expect(err.stderr).toMatch(/docs\/operations\.md/);
  });
});
