// GET /api/v1/elections/{id}/roll over real HTTP and a real PostgreSQL: the served roll is the election's
// roll in rollRoot order (MTH of the served lines = rollRoot), 404 for an unknown election, 409 while the
// roll is still being uploaded, a 50,000-key roll streamed in pages; and, on the whole system (anchor
// worker + chain), `tallyproof-verify audit --api` passes without --roll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, testManifest, voters } from '../../test/support/fixtures.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { MerkleRootBuilder, merkleRoot } from '../../ledger/src/protocol/merkle.js';
import { runCli } from '../../verifier-cli/src/cli.js';
import type { AuditReport } from '../../verifier-cli/src/audit/audit.js';
import { rollPages } from '../../ledger/src/index.js';
import { build, request, type TestApi } from './helper.js';
import { validKeys } from './helpers/keys.js';
import { until } from '../../test/support/wait.js';

let api: TestApi;

beforeAll(async () => {
  api = await build({ rollCheckThreads: 2 });
}, 60_000);

afterAll(async () => {
  await api?.close();
});

const ndjson = (ks: readonly Buffer[]) => ks.map((k) => `"${k.toString('hex')}"\n`).join('');
const sortedHex = (hex: readonly string[]) =>
  hex
    .map((h) => Buffer.from(h, 'hex'))
    .sort(Buffer.compare)
    .map((b) => b.toString('hex'));

/** The served lines as keys: each line must be exactly a JSON string of 64 lowercase hex digits. */
function parseLines(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      expect(line).toMatch(/^"[0-9a-f]{64}"$/);
      return JSON.parse(line) as string;
    });
}

describe('GET /api/v1/elections/{id}/roll', () => {
  it('serves the roll as NDJSON, sorted by key bytes: MTH of the served roll = rollRoot', async () => {
    const { voters: vs } = await api.election('roll-small', 37);
    const election = (await api.request('GET', '/api/v1/elections/roll-small')).body;
    const r = await api.request('GET', '/api/v1/elections/roll-small/roll');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(r.headers.get('x-roll-size')).toBe('37');
    expect(r.headers.get('x-roll-root')).toBe(election.rollRoot);
    const served = parseLines(r.text);
    expect(served).toEqual(sortedHex(vs.map((v) => v.credential)));
    expect(merkleRoot(served.map((k) => Buffer.from(k, 'hex'))).toString('hex')).toBe(election.rollRoot);
    // the served lines as they come (no re-sort): already in the order rollRoot is computed over
    expect(served.slice().sort()).toEqual(served);
  });

  it('HEAD: the headers without the body', async () => {
    const r = await fetch(`${api.url}/api/v1/elections/roll-small/roll`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(r.headers.get('x-roll-size')).toBe('37');
    expect(await r.text()).toBe('');
  });

  it('an empty roll: 200 with no line, X-Roll-Size 0', async () => {
    const created = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: { manifest: testManifest('roll-empty', api.ledgerKey.publicKeyHex), roll: [] },
    });
    expect(created.status).toBe(201);
    const r = await api.request('GET', '/api/v1/elections/roll-empty/roll');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(r.headers.get('x-roll-size')).toBe('0');
    expect(r.headers.get('x-roll-root')).toBe(created.body.rollRoot);
  });

  it('404 unknown-election for an unknown election or an id that cannot exist', async () => {
    for (const id of ['no-such-election', 'Not_An_Id']) {
      const r = await api.request('GET', `/api/v1/elections/${id}/roll`);
      expect(r.status, id).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.body.error.code, id).toBe('unknown-election');
      expect(typeof r.body.error.message).toBe('string');
    }
  });

  it('409 roll-pending while the roll is being uploaded; the whole roll once finalized', async () => {
    const E = 'roll-pending';
    const keys = validKeys(25, E);
    const created = await api.request('POST', '/api/v1/elections', {
      admin: true,
      json: {
        manifest: testManifest(E, api.ledgerKey.publicKeyHex),
        rollPending: true,
        roll: keys.slice(0, 10).map((k) => k.toString('hex')),
      },
    });
    expect(created.status).toBe(201);
    const pending = await api.request('GET', `/api/v1/elections/${E}/roll`);
    expect(pending.status).toBe(409);
    expect(pending.body.error.code).toBe('roll-pending');
    const put = await api.request('PUT', `/api/v1/elections/${E}/roll`, {
      admin: true,
      body: ndjson(keys.slice(10)),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(put.status, put.text).toBe(200);
    expect((await api.request('GET', `/api/v1/elections/${E}/roll`)).status).toBe(409);
    const fin = await api.request('POST', `/api/v1/elections/${E}/roll/finalize`, { admin: true });
    expect(fin.status).toBe(200);
    const r = await api.request('GET', `/api/v1/elections/${E}/roll`);
    expect(r.status).toBe(200);
    expect(parseLines(r.text)).toEqual(sortedHex(keys.map((k) => k.toString('hex'))));
    expect(merkleRoot(keys.slice().sort(Buffer.compare)).toString('hex')).toBe(fin.body.rollRoot);
  });

  it('pages by key (keyset): any page size gives the same lines, including pages that end exactly at the roll end', async () => {
    const whole = (await api.request('GET', '/api/v1/elections/roll-small/roll')).text;
    for (const size of [1, 5, 36, 37, 38]) {
      let text = '';
      let pages = 0;
      for await (const page of rollPages(api.db.app, 'roll-small', size)) {
        text += page;
        pages++;
      }
      expect(text, `pages of ${size}`).toBe(whole);
      expect(pages).toBe(Math.ceil(37 / size));
    }
  });

  it('is in the OpenAPI document', async () => {
    const spec = (await api.request('GET', '/docs/json')).body;
    const op = spec.paths['/api/v1/elections/{electionId}/roll'].get;
    expect(op).toBeDefined();
    expect(Object.keys(op.responses['200'].content ?? {})).toContain('application/x-ndjson');
    expect(spec.paths['/api/v1/elections/{electionId}/roll'].put).toBeDefined();
  });
});

describe('a 50,000-key roll', () => {
  const N = 50_000;
  const E = 'roll-stream';

  it('streams in chunks, every key once, in order, to the registered rollRoot', async () => {
    const keys = validKeys(N, E);
    expect(
      (
        await api.request('POST', '/api/v1/elections', {
          admin: true,
          json: { manifest: testManifest(E, api.ledgerKey.publicKeyHex), rollPending: true },
        })
      ).status,
    ).toBe(201);
    const put = await api.request('PUT', `/api/v1/elections/${E}/roll`, {
      admin: true,
      body: ndjson(keys),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(put.status, put.text).toBe(200);
    const fin = await api.request('POST', `/api/v1/elections/${E}/roll/finalize`, { admin: true });
    expect(fin.body.rollSize).toBe(N);

    const started = Date.now();
    const res = await fetch(`${api.url}/api/v1/elections/${E}/roll`);
    expect(res.status).toBe(200);
    // streamed: chunked, no Content-Length computed from a body held in memory
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('x-roll-size')).toBe(String(N));
    const sorted = keys.slice().sort(Buffer.compare);
    const builder = new MerkleRootBuilder();
    const decoder = new TextDecoder();
    let rest = '';
    let n = 0;
    let chunks = 0;
    let maxChunk = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      chunks++;
      maxChunk = Math.max(maxChunk, chunk.byteLength);
      const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const key = JSON.parse(line) as string;
        if (key !== sorted[n]!.toString('hex'))
          throw new Error(`line ${n + 1}: ${key}, expected ${sorted[n]!.toString('hex')}`);
        builder.push(Buffer.from(key, 'hex'));
        n++;
      }
    }
    expect(rest).toBe('');
    expect(n).toBe(N);
    expect(builder.root().toString('hex')).toBe(fin.body.rollRoot);
    expect(chunks).toBeGreaterThan(1);
    console.log(`roll of ${N}: served in ${Date.now() - started} ms, ${chunks} chunks (largest ${maxChunk} bytes)`);
  }, 120_000);
});

describe('tallyproof-verify audit --api against the real server', () => {
  let stack: Stack;
  const E = 'roll-audit';

  beforeAll(async () => {
    stack = await startStack();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('passes on a clean, closed election without --roll (the roll comes from GET …/roll)', async () => {
    const call = (method: string, path: string, o: Parameters<typeof request>[3] = {}) =>
      request(stack.apiUrl, method, path, {
        ...o,
        headers: { ...o.headers, ...(o.admin ? { authorization: `Bearer ${stack.adminToken}` } : {}) },
        admin: false,
      });
    const vs = voters(9, `${E}-`);
    const manifest = testManifest(E, stack.ledgerKey.publicKeyHex, { windowSeconds: 1 });
    expect(
      (await call('POST', '/api/v1/elections', { admin: true, json: { manifest, roll: vs.map((v) => v.credential) } }))
        .status,
    ).toBe(201);
    await until('registration', async () => (await call('GET', `/api/v1/elections/${E}`)).body.registration);
    for (let i = 0; i < 6; i++)
      expect(
        (await call('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[i]!, E, selectionsFor(i)) })).status,
      ).toBe(201);
    expect((await call('POST', `/api/v1/elections/${E}/close`, { admin: true })).status).toBe(202);
    await until(
      'close on chain',
      async () =>
        (await call('GET', `/api/v1/elections/${E}/results`)).body.anchoredBallots === 6 &&
        (await call('GET', `/api/v1/elections/${E}/windows`)).body.windows.every((w: { anchor: unknown }) => w.anchor),
      60_000,
    );

    let stdout = '';
    let stderr = '';
    const run = async (extra: string[]) => {
      stdout = '';
      stderr = '';
      return runCli(
        [
          'audit',
          '--election',
          E,
          '--api',
          stack.apiUrl,
          '--rpc',
          stack.rpcUrl,
          '--contract',
          stack.contractAddress,
          '--threads',
          '0',
          '--json',
          ...extra,
        ],
        {
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
        },
      );
    };
    // closeElection may land a moment after the last window: audit until the chain shows the close.
    let report!: AuditReport;
    let code = -1;
    await until(
      'an audit of the closed election',
      async () => {
        code = await run([]);
        expect(stderr).toBe('');
        report = JSON.parse(stdout) as AuditReport;
        return report.chain.election?.closed ?? false;
      },
      60_000,
    );
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    expect(report.verdict).toBe('pass');
    expect(report.ledger).toMatchObject({ rows: 6, unanchoredRows: 0 });
    expect(report.recount?.totalBallots).toBe(6);
  }, 180_000);
});
