// A static file server on 127.0.0.1, as a CDN mirror of a saved tiles directory would be: GET /<prefix>/<path>
// answers the file <dir>/<path> (application/octet-stream, or application/json for .json files), 404 otherwise.
// `failures` makes the next requests fail: 503, 403, 429 (Retry-After: 1), or the connection dropped before any answer.
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface StaticServer {
  /** The base URL of the mirror, ending with a slash: http://127.0.0.1:PORT/<prefix>/ */
  base: string;
  /** Paths requested, in order. */
  requests: string[];
  /** The next requests fail, in this order. */
  failures: ('503' | '403' | '429' | 'drop')[];
  close(): Promise<void>;
}

export async function startStaticServer(dir: string, prefix = 'mirror'): Promise<StaticServer> {
  const requests: string[] = [];
  const failures: ('503' | '403' | '429' | 'drop')[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      requests.push(path);
      const failure = failures.shift();
      if (failure === 'drop') return req.socket.destroy();
      if (failure === '429') {
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' });
        return res.end('slow down');
      }
      if (failure === '503' || failure === '403') {
        res.writeHead(Number(failure), { 'content-type': 'text/plain' });
        return res.end(failure === '503' ? 'busy' : 'forbidden');
      }
      const notFound = (): void => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      };
      if (!path.startsWith(`/${prefix}/`)) return notFound();
      const file = normalize(join(dir, path.slice(prefix.length + 2)));
      if (!file.startsWith(normalize(dir))) return notFound();
      try {
        if (!(await stat(file)).isFile()) return notFound();
        const body = await readFile(file);
        res.writeHead(200, {
          'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
          'cache-control': 'public, max-age=31536000, immutable',
        });
        res.end(body);
      } catch {
        notFound();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/${prefix}/`,
    requests,
    failures,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
