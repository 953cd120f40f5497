// The hook for the voter and results pages: web/dist (WEB_DIR) is served when it holds an index.html, with
// `GET /` → index.html and `GET /results/{id}` → results.html (index.html when absent). Until the web
// build exists, `/` is a minimal page pointing at the API documentation.
//
// Also the security headers of every response (addSecurityHeaders): the pages' Content-Security-Policy,
// nosniff, no referrer, no framing, and HSTS over TLS (docs/operations.md "Security headers").
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import staticFiles from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { ChainInfo } from '../dependencies.js';

const PLACEHOLDER_STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2rem}';
const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Tallyproof</title>
<style>${PLACEHOLDER_STYLE}</style></head>
<body><h1>Tallyproof</h1><p>A verifiable vote ledger. The voter and results pages are not built on this server.</p>
<ul><li><a href="/docs">API documentation (OpenAPI)</a></li><li><a href="/api/v1/health">Health</a></li></ul></body></html>
`;
/** The placeholder's one inline style, allowed by its hash (the built pages have none). */
const PLACEHOLDER_STYLE_HASH = `'sha256-${createHash('sha256').update(PLACEHOLDER_STYLE).digest('base64')}'`;

export default async function webPlugin(app: FastifyInstance, opts: { webDir: string | null }): Promise<void> {
  const dir = opts.webDir;
  if (dir && existsSync(join(dir, 'index.html'))) {
    await app.register(staticFiles, {
      root: dir,
      prefix: '/',
      index: false,
      wildcard: true,
      // The voter page's service worker is looked at on every visit (a new build is a new worker), and
      // its scope is `/`, where it is served; the web app manifest under its registered type.
      setHeaders: (res, path) => {
        if (path.endsWith('/sw.js')) res.setHeader('cache-control', 'no-cache');
        if (path.endsWith('.webmanifest')) res.setHeader('content-type', 'application/manifest+json; charset=utf-8');
      },
    });
    const resultsPage = existsSync(join(dir, 'results.html')) ? 'results.html' : 'index.html';
    app.get('/', { schema: { hide: true } }, (_req, reply) => reply.sendFile('index.html'));
    app.get('/results/:electionId', { schema: { hide: true } }, (_req, reply) => reply.sendFile(resultsPage));
    return;
  }
  app.get('/', { schema: { hide: true } }, (_req, reply) => {
    const publicRpcUrl = app.tp.chain().publicRpcUrl;
    return reply
      .header('content-security-policy', pageCsp(publicRpcUrl, [PLACEHOLDER_STYLE_HASH]))
      .type('text/html; charset=utf-8')
      .send(PLACEHOLDER);
  });
}

/**
 * Where the pages may connect besides their own origin: any https: endpoint and plain http on the
 * loopback address, because the check reads the chain through the RPC URL the voter chooses (a node of
 * their own, or any they trust more than this server), not only through the one the server publishes;
 * and the published PUBLIC_CHAIN_RPC_URL's origin, which may be plain http (a local chain).
 */
const VOTER_RPC_SOURCES = ['https:', 'http://localhost:*', 'http://127.0.0.1:*'];

/** A URL's origin as a CSP host-source (scheme://host[:port]), or null when it cannot be one. */
export function cspOrigin(url: string | null | undefined): string | null {
  if (!url) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  // A host-source allows letters, digits, '-' and '.' only (no IPv6 literal), so nothing can end the directive.
  const origin = `${u.protocol}//${u.host}`;
  return /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/.test(origin) ? origin : null;
}

/**
 * The pages' policy: scripts, styles, images and fonts from this origin only (the build inlines none),
 * the service worker and web app manifest too, no plugins, no <base>, forms to this origin, never framed;
 * connections as VOTER_RPC_SOURCES says.
 */
export function pageCsp(publicRpcUrl: string | null | undefined, extraStyles: readonly string[] = []): string {
  const rpc = cspOrigin(publicRpcUrl);
  const connect = ["'self'", ...(rpc ? [rpc] : []), ...VOTER_RPC_SOURCES.filter((s) => s !== rpc)];
  return [
    "default-src 'self'",
    `connect-src ${connect.join(' ')}`,
    ...(extraStyles.length > 0 ? [`style-src 'self' ${extraStyles.join(' ')}`] : []),
    // The voter page's service worker (/sw.js) and web app manifest: said outright, so that a narrower
    // script-src or default-src later does not silently turn the offline mode off.
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The JSON API's policy: nothing in a response runs or loads anything, and none is framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** The API documentation (swagger-ui, with inline scripts of its own): only never framed. */
export const DOCS_CSP = "frame-ancestors 'none'";
/** One year; without includeSubDomains, which would bind other hosts of the operator's domain. */
export const HSTS = 'max-age=31536000';

/**
 * Security headers on every response, set on the raw response at onRequest (as @fastify/helmet does) so
 * that error answers and the hijacked results stream carry them too; a route may still set its own.
 * Call on the root instance before the route plugins are registered (their contexts copy its hooks).
 * HSTS only when the request came over TLS: `request.protocol` is https on a TLS socket, or through
 * X-Forwarded-Proto from a proxy the app trusts (TRUST_PROXY).
 */
export function addSecurityHeaders(app: FastifyInstance, opts: { chain: () => ChainInfo }): void {
  let cached: { url: string | null | undefined; csp: string } | null = null;
  const pagePolicy = (): string => {
    const url = opts.chain().publicRpcUrl;
    if (cached === null || cached.url !== url) cached = { url, csp: pageCsp(url) };
    return cached.csp;
  };
  app.addHook('onRequest', (req, reply, done) => {
    const res = reply.raw;
    const path = req.url.split('?', 1)[0]!;
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader(
      'content-security-policy',
      path.startsWith('/api/') ? API_CSP : path === '/docs' || path.startsWith('/docs/') ? DOCS_CSP : pagePolicy(),
    );
    if (req.protocol === 'https') res.setHeader('strict-transport-security', HSTS);
    done();
  });
}
