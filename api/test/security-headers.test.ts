// Security headers over real HTTP (api/src/plugins/web.ts addSecurityHeaders): the pages carry their
// Content-Security-Policy (default-src 'self', the published chain RPC and the voter's own RPC sources in
// connect-src, frame-ancestors 'none'), every response nosniff and no-referrer, the JSON API a policy that
// loads nothing, and HSTS only when the request came over TLS (X-Forwarded-Proto through a trusted proxy).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { API_CSP, DOCS_CSP, cspOrigin, pageCsp } from '../src/plugins/web.js';
import type { ChainInfo } from '../src/dependencies.js';
import { build, type HttpResult, type TestApi } from './helper.js';

const RPC = 'http://127.0.0.1:8545';
let db: TestDatabase;
let webDir: string;
let api: TestApi;
let proxied: TestApi;

beforeAll(async () => {
  db = await createTestDatabase();
  webDir = mkdtempSync(join(tmpdir(), 'tallyproof-web-headers-'));
  mkdirSync(join(webDir, 'assets'));
  writeFileSync(
    join(webDir, 'index.html'),
    '<!doctype html><title>voter</title><script type="module" src="/assets/voter.js"></script>',
  );
  writeFileSync(join(webDir, 'results.html'), '<!doctype html><title>results</title>');
  writeFileSync(join(webDir, 'assets', 'voter.js'), 'export {};\n');
  const chain = { chainId: 31337, contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3', publicRpcUrl: RPC };
  api = await build({ db, webDir, chain });
  proxied = await build({ db, webDir, chain, trustProxy: 1 });
  await api.election('headers', 1);
});

afterAll(async () => {
  await api?.close();
  await proxied?.close();
  await db?.drop();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

function directives(csp: string | null): Map<string, string[]> {
  return new Map(
    (csp ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

function expectCommon(r: HttpResult, what: string): void {
  expect(r.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(r.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(r.headers.get('x-frame-options'), what).toBe('DENY');
  expect(r.headers.get('strict-transport-security'), what).toBeNull();
}

describe('security headers', () => {
  it('serves the pages and their files with the pages’ CSP', async () => {
    for (const path of ['/', '/results/headers', '/assets/voter.js']) {
      const r = await api.request('GET', path);
      expect(r.status, path).toBe(200);
      expectCommon(r, path);
      const csp = directives(r.headers.get('content-security-policy'));
      expect(csp.get('default-src'), path).toEqual(["'self'"]);
      expect(csp.get('frame-ancestors'), path).toEqual(["'none'"]);
      expect(csp.get('object-src'), path).toEqual(["'none'"]);
      expect(csp.get('base-uri'), path).toEqual(["'none'"]);
      // The published RPC (plain http here), and the voter's own: any https endpoint or a loopback node.
      expect(csp.get('connect-src'), path).toEqual([
        "'self'",
        RPC,
        'https:',
        'http://localhost:*',
        'http://127.0.0.1:*',
      ]);
      // No inline script or style is allowed.
      expect(r.headers.get('content-security-policy'), path).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(csp.has('script-src') || csp.has('style-src'), path).toBe(false);
    }
  });

  it('gives the JSON API routes nosniff and a policy that loads nothing, errors and streams included', async () => {
    const health = await api.request('GET', '/api/v1/health');
    const missing = await api.request('GET', '/api/v1/elections/nope');
    const refused = await api.request('POST', '/api/v1/elections/headers/ballots', {
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(missing.status).toBe(404);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    for (const [what, r] of [
      ['health', health],
      ['404', missing],
      ['refused ballot', refused],
    ] as const) {
      expectCommon(r, what);
      expect(r.headers.get('content-security-policy'), what).toBe(API_CSP);
    }
    // The results stream writes its own head (the reply is hijacked) and still carries the headers.
    const abort = new AbortController();
    const stream = await fetch(`${api.url}/api/v1/elections/headers/results/stream`, { signal: abort.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('x-content-type-options')).toBe('nosniff');
    expect(stream.headers.get('content-security-policy')).toBe(API_CSP);
    abort.abort();
    await stream.body?.cancel().catch(() => {});

    const docs = await api.request('GET', '/docs/json');
    expectCommon(docs, '/docs/json');
    expect(docs.headers.get('content-security-policy')).toBe(DOCS_CSP);
  });

  it('sends HSTS only over TLS: X-Forwarded-Proto https from a trusted proxy, never on plain HTTP', async () => {
    const overTls = await proxied.request('GET', '/', { headers: { 'x-forwarded-proto': 'https' } });
    expect(overTls.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const apiOverTls = await proxied.request('GET', '/api/v1/health', { headers: { 'x-forwarded-proto': 'https' } });
    expect(apiOverTls.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect((await proxied.request('GET', '/')).headers.get('strict-transport-security')).toBeNull();
    // Without a trusted proxy the header is the client's word: no HSTS on a plain HTTP connection.
    const spoofed = await api.request('GET', '/', { headers: { 'x-forwarded-proto': 'https' } });
    expect(spoofed.headers.get('strict-transport-security')).toBeNull();
  });

  it('allows the placeholder page its inline style by hash; the policy follows an RPC URL learnt later', async () => {
    let info: ChainInfo = { chainId: null, contract: null };
    const bare = await build({ db, webDir: null, chain: () => info });
    try {
      const r = await bare.request('GET', '/');
      expect(r.status).toBe(200);
      expectCommon(r, 'placeholder');
      const style = /<style>([^<]*)<\/style>/.exec(r.text)![1]!;
      const hash = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;
      const csp = directives(r.headers.get('content-security-policy'));
      expect(csp.get('style-src')).toEqual(["'self'", hash]);
      expect(csp.get('connect-src')).toEqual(["'self'", 'https:', 'http://localhost:*', 'http://127.0.0.1:*']);

      info = { chainId: 1, contract: null, publicRpcUrl: 'https://rpc.example.org:8443/v1?key=x' };
      const later = directives((await bare.request('GET', '/results/x')).headers.get('content-security-policy'));
      expect(later.get('connect-src')).toEqual([
        "'self'",
        'https://rpc.example.org:8443',
        'https:',
        'http://localhost:*',
        'http://127.0.0.1:*',
      ]);
    } finally {
      await bare.close();
    }
  });

  it('puts only a plain scheme://host[:port] of the published URL into the policy', () => {
    expect(cspOrigin('http://127.0.0.1:8545/')).toBe('http://127.0.0.1:8545');
    expect(cspOrigin('https://Rpc.Example.org/path')).toBe('https://rpc.example.org');
    expect(cspOrigin('ws://rpc.example.org')).toBeNull();
    expect(cspOrigin('http://[::1]:8545')).toBeNull();
    expect(cspOrigin('not a url')).toBeNull();
    expect(cspOrigin('http://a;b/')).toBeNull();
    expect(pageCsp('http://a;b/')).not.toContain('a;b');
    expect(pageCsp('http://localhost:8545')).toContain("connect-src 'self' http://localhost:8545 https:");
  });
});
