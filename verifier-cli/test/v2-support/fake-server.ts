// A tiny stand-in for the Tallyproof API of an encrypted election on 127.0.0.1, serving what a test puts in
// it: GET /api/v1/elections/{id}, …/roll (NDJSON), …/ledger, …/results, …/trustee-messages, …/aggregate
// (409 not-closed while absent) and …/decryption (409 not-decrypted while absent), as docs/protocol.md 12.9
// describes them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeEncryptedElection {
  info: unknown;
  roll: string[];
  ledgerLines: string[];
  results: unknown;
  transcript: unknown;
  aggregate?: unknown;
  decryption?: unknown;
}

export interface FakeV2Server {
  url: string;
  elections: Map<string, FakeEncryptedElection>;
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeV2Server(): Promise<FakeV2Server> {
  const elections = new Map<string, FakeEncryptedElection>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${req.method} ${url.pathname}`);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string): void => json(status, { error: { code, message: code } });
    const m = /^\/api\/v1\/elections\/([a-z0-9-]+)(\/[a-z-]+)?$/.exec(url.pathname);
    const e = m ? elections.get(m[1]!) : undefined;
    if (!m || e === undefined) return error(404, 'not-found');
    switch (m[2]) {
      case undefined:
        return json(200, e.info);
      case '/roll':
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-roll-size': String(e.roll.length) });
        return res.end(e.roll.map((k) => JSON.stringify(k) + '\n').join(''));
      case '/ledger':
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        // In pieces, so that lines straddle chunks.
        for (const line of e.ledgerLines) {
          res.write(line.slice(0, 300));
          res.write(line.slice(300) + '\n');
        }
        return res.end();
      case '/results':
        return json(200, e.results);
      case '/trustee-messages':
        return json(200, e.transcript);
      case '/aggregate':
        return e.aggregate === undefined ? error(409, 'not-closed') : json(200, e.aggregate);
      case '/decryption':
        return e.decryption === undefined ? error(409, 'not-decrypted') : json(200, e.decryption);
    }
    return error(404, 'not-found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    elections,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
