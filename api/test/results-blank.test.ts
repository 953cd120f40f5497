// Blank ballots in every view the API gives of the results, against docs/test-vectors/results.json: the JSON
// body, the CSV, the event stream (pushed when a blank ballot arrives), the close's 202 and the
// `tallyproof election close` output. The vector's signed ballots are cast over HTTP.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testManifest } from '../../test/support/fixtures.js';
import type { Manifest } from '../../ledger/src/protocol/protocol.js';
import { ADMIN_TOKEN, build, type TestApi } from './helper.js';

interface ResultsVector {
  manifest: Manifest;
  ballots: { seq: number; submission: { ballot: { credential: string; selections: Record<string, string[]> } } }[];
  contests: Record<string, { ballotsCounted: number; blank: number }>;
  resultHash: string;
  results: Record<string, unknown>;
  csv: string;
}

const v = JSON.parse(
  readFileSync(new URL('../../docs/test-vectors/results.json', import.meta.url), 'utf8'),
) as ResultsVector;
const E = v.manifest.electionId;
const bin = fileURLToPath(new URL('../../scripts/bin/tallyproof.js', import.meta.url));
// No anchor worker here: nothing is anchored, everything else is the vector's body, in its key order.
const served = { ...v.results, anchoredBallots: 0 };
const blankBallot = v.ballots.find((b) => b.submission.ballot.selections.referendum!.length === 0)!;

let api: TestApi;

beforeAll(async () => {
  api = await build();
  const manifest = testManifest(E, api.ledgerKey.publicKeyHex, { contests: v.manifest.contests });
  const created = await api.request('POST', '/api/v1/elections', {
    admin: true,
    json: { manifest, roll: v.ballots.map((b) => b.submission.ballot.credential) },
  });
  expect(created.status, created.text).toBe(201);
  for (const b of v.ballots) {
    if (b === blankBallot) continue;
    const r = await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: b.submission });
    expect(r.status, r.text).toBe(201);
  }
});

afterAll(async () => {
  await api?.close();
});

/** Events of a results stream, one at a time (`data` parsed, and its raw text). */
async function openStream(signal: AbortSignal) {
  const res = await fetch(`${api.url}/api/v1/elections/${E}/results/stream`, { signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  return async (): Promise<{ raw: string; data: any }> => {
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const line = block.split('\n').find((l) => l.startsWith('data: '));
        if (line) return { raw: line.slice(6), data: JSON.parse(line.slice(6)) };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += decoder.decode(value, { stream: true });
    }
  };
}

describe('results with blank ballots (docs/test-vectors/results.json)', () => {
  it('the stream pushes the blank ballot, and its last event is the vector’s body', async () => {
    const ctrl = new AbortController();
    try {
      const next = await openStream(ctrl.signal);
      const first = await next();
      expect(first.data.totalBallots).toBe(6);
      expect(first.data.contests.referendum).toEqual({ ballotsCounted: 6, blank: 0 });
      const r = await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: blankBallot.submission });
      expect(r.status, r.text).toBe(201);
      const after = await next();
      expect(after.data.contests.referendum).toEqual({ ballotsCounted: 7, blank: 1 });
      expect(after.raw).toBe(JSON.stringify(served));
    } finally {
      ctrl.abort();
    }
  });

  it('JSON: the vector’s body, the v1 fields first, then contests with blank and ballotsCounted', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}/results`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual([
      'electionId',
      'tally',
      'totalBallots',
      'anchoredBallots',
      'asOfSeq',
      'contests',
    ]);
    expect(r.text).toBe(JSON.stringify(served));
  });

  it('CSV: each contest’s choices, then its (blank) and (ballots counted) rows, byte for byte', async () => {
    const r = await api.request('GET', `/api/v1/elections/${E}/results?format=csv`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(v.csv);
    expect(r.text).toContain('referendum,(blank),1\r\n');
  });

  it('the close (202 and `tallyproof election close`) gives the blank counts and the percentage basis', async () => {
    const run = await promisify(execFile)(process.execPath, [
      bin,
      'election',
      'close',
      '--api',
      api.url,
      '--election',
      E,
      '--token',
      ADMIN_TOKEN,
    ]);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({ electionId: E, status: 'closed', resultHash: v.resultHash, totalBallots: 7 });
    expect(body.contests).toEqual(v.contests);
    expect(run.stderr).toContain(`election ${E} closed at ${body.closedAt}: 7 ballots counted`);
    expect(run.stderr).toContain('referendum: yes 2 (28.6%), no 4 (57.1%), blank 1 (14.3%) — % of 7 ballots');
    expect(run.stderr).toContain('council: ana 2 (28.6%), bo 2 (28.6%), chloe 2 (28.6%), blank 3 (42.9%)');
    // Closing again answers the same result.
    const again = await api.request('POST', `/api/v1/elections/${E}/close`, { admin: true });
    expect(again.status).toBe(202);
    expect(again.body.contests).toEqual(v.contests);
  });
});
