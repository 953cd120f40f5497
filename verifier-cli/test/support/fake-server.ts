// A tiny stand-in for the Tallyproof API on 127.0.0.1, serving what a test puts in it (honest or not):
// GET /api/v1/elections/{id}, /roll, /results, /ledger, and /api/v1/receipts/{ballotHash}; for an election of
// several shards also /intervals?from=&limit= and /windows?shard=&from=, a page at a time; tiles
// (…/windows/{w}/tile/…, …/shards/{s}/windows/{w}/tile/…) from a directory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface FakeElection {
  /** GET /api/v1/elections/{id} body. */
  info: unknown;
  /** GET …/roll: served as NDJSON like the real API (one JSON string per line, X-Roll-Size); absent: 404. */
  roll?: string[];
  /** Serve the roll as a JSON array (application/json) instead. */
  rollAsJsonArray?: boolean;
  /** Serve this NDJSON text as the roll instead (malformed lines…). */
  rollBody?: string;
  /** X-Roll-Size to announce instead of the number of keys. */
  rollSizeHeader?: string;
  results?: unknown;
  ledgerLines: string[];
  /** An election of several shards: GET …/intervals's intervals (absent: 404). */
  intervals?: unknown[];
  /** An election of several shards: GET …/windows?shard=s's windows, per shard. */
  shardWindows?: unknown[][];
  /** Items per page of …/intervals and …/windows (default 2, so that lists span pages). */
  pageSize?: number;
}

export interface FakeServer {
  url: string;
  elections: Map<string, FakeElection>;
  bundles: Map<string, unknown>;
  requests: string[];
  /**
   * Tiles: GET /api/v1/elections/<path>/tile/… is served from the file <tilesDir>/<path>/tile/… (404 when there is
   * none, or no tilesDir), as application/octet-stream.
   */
  tilesDir: string | undefined;
  /** The next this-many tile requests are answered 503 (a server or CDN that fails now and then). */
  tileFailures: number;
  close(): Promise<void>;
}

export async function startFakeServer(): Promise<FakeServer> {
  const elections = new Map<string, FakeElection>();
  const bundles = new Map<string, unknown>();
  const requests: string[] = [];
  const fake: FakeServer = {
    url: '',
    elections,
    bundles,
    requests,
    tilesDir: undefined,
    tileFailures: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const notFound = (): void => json(404, { error: { code: 'not-found', message: `nothing at ${url.pathname}` } });
    const tile = /^\/api\/v1\/elections\/([a-z0-9/.-]+\/tile\/[a-z0-9/.]+)$/.exec(url.pathname);
    if (tile) {
      if (fake.tileFailures > 0) {
        fake.tileFailures--;
        return json(503, { error: { code: 'unavailable', message: 'try again' } });
      }
      const file = fake.tilesDir === undefined ? undefined : join(fake.tilesDir, tile[1]!);
      if (file === undefined || !file.startsWith(fake.tilesDir!) || !existsSync(file) || !statSync(file).isFile())
        return notFound();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(readFileSync(file));
    }
    let m = /^\/api\/v1\/receipts\/([0-9a-f]{64})$/.exec(url.pathname);
    if (m) {
      const bundle = bundles.get(m[1]!);
      return bundle === undefined ? notFound() : json(200, bundle);
    }
    m = /^\/api\/v1\/elections\/([a-z0-9-]+)(\/roll|\/results|\/ledger|\/intervals|\/windows)?$/.exec(url.pathname);
    const election = m ? elections.get(m[1]!) : undefined;
    if (!m || election === undefined) return notFound();
    /** A page of `items` from ?from= (an index into the list), with `next` when more follow. */
    const page = (key: string, items: readonly unknown[]): void => {
      const from = Number(url.searchParams.get('from') ?? '0');
      const size = Math.min(election.pageSize ?? 2, Number(url.searchParams.get('limit') ?? '1000'));
      const body: Record<string, unknown> = { electionId: m![1], [key]: items.slice(from, from + size) };
      if (from + size < items.length) body.next = from + size;
      json(200, body);
    };
    switch (m[2]) {
      case undefined:
        return json(200, election.info);
      case '/intervals':
        return election.intervals === undefined ? notFound() : page('intervals', election.intervals);
      case '/windows': {
        const shard = Number(url.searchParams.get('shard') ?? '0');
        const windows = election.shardWindows?.[shard];
        return windows === undefined ? notFound() : page('windows', windows);
      }
      case '/roll': {
        if (election.roll === undefined && election.rollBody === undefined) return notFound();
        if (election.rollAsJsonArray) return json(200, election.roll);
        const body = election.rollBody ?? election.roll!.map((k) => JSON.stringify(k) + '\n').join('');
        const size =
          election.rollSizeHeader ?? String(election.roll?.length ?? body.split('\n').filter((l) => l !== '').length);
        res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-roll-size': size });
        // Small pieces, so that lines straddle chunks.
        for (let i = 0; i < body.length; i += 41) res.write(body.slice(i, i + 41));
        return res.end();
      }
      case '/results':
        return election.results === undefined ? notFound() : json(200, election.results);
      case '/ledger': {
        const from = Number(url.searchParams.get('from') ?? '0');
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        // Written in small pieces so that lines straddle chunks.
        const body = election.ledgerLines
          .slice(from)
          .map((l) => l + '\n')
          .join('');
        for (let i = 0; i < body.length; i += 97) res.write(body.slice(i, i + 97));
        return res.end();
      }
    }
    return notFound();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  return fake;
}
