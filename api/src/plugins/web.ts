// The hook for the voter and results pages: web/dist (WEB_DIR) is served when it holds an index.html, with
// `GET /` → index.html and `GET /results/{id}` → results.html (index.html when absent). Until the web
// build exists, `/` is a minimal page pointing at the API documentation.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import staticFiles from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Tallyproof</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body><h1>Tallyproof</h1><p>A verifiable vote ledger. The voter and results pages are not built on this server.</p>
<ul><li><a href="/docs">API documentation (OpenAPI)</a></li><li><a href="/api/v1/health">Health</a></li></ul></body></html>
`;

export default async function webPlugin(app: FastifyInstance, opts: { webDir: string | null }): Promise<void> {
  const dir = opts.webDir;
  if (dir && existsSync(join(dir, 'index.html'))) {
    await app.register(staticFiles, { root: dir, prefix: '/', index: false, wildcard: true });
    const resultsPage = existsSync(join(dir, 'results.html')) ? 'results.html' : 'index.html';
    app.get('/', { schema: { hide: true } }, (_req, reply) => reply.sendFile('index.html'));
    app.get('/results/:electionId', { schema: { hide: true } }, (_req, reply) => reply.sendFile(resultsPage));
    return;
  }
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER));
}
