// Fuzz of the ballot route: ≥ 5,000 mutated submissions (byte flips, type swaps, truncations, huge values,
// deep nesting, prototype-pollution keys, odd strings and content types). None may get a 5xx, none may be
// stored, every refusal adds exactly one to the audit counts, and the server's prototypes stay clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, seededRandom, selectionsFor, voter, type Voter } from '../../test/support/fixtures.js';
import { ERROR_CODES } from '../../ledger/src/protocol/errors.js';
import type { Submission } from '../../ledger/src/protocol/protocol.js';
import { build, ledgerCounts, type TestApi } from './helper.js';

const E = 'fuzz';
const COUNT = 5200;
let api: TestApi;
let vs: Voter[];
let bases: Submission[];

// A seeded PRNG so that a failure can be replayed (the seed is printed on failure).
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const rand = seededRandom(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

beforeAll(async () => {
  // 5,200 refusals from one address: far over the refusal budget, so the limits are off for this test.
  api = await build({ verifyThreads: 2, rateLimits: false });
  ({ voters: vs } = await api.election(E, 4));
  // Voters 0 and 1 have voted: a mutation that keeps the same JSON value is a resubmission (200), a
  // different ballot of theirs a duplicate (409). The "outsider" is not on the roll. Voter 2 has not voted
  // and is kept out of the fuzz: a value-preserving mutation of a fresh ballot would rightly be stored.
  for (const i of [0, 1])
    expect(
      (await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[i]!, E, selectionsFor(i)) }))
        .status,
    ).toBe(201);
  bases = [
    ballotFor(vs[0]!, E, selectionsFor(0)),
    ballotFor(vs[1]!, E, selectionsFor(1)),
    ballotFor(voter('outsider'), E),
  ];
});

afterAll(async () => {
  await api?.close();
});

const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  '',
  '1',
  'x'.repeat(5000),
  '\u0000',
  '\ud800',
  '💥',
  '\u202e',
  [],
  [null],
  [[[]]],
  {},
  { '': 1 },
  { __proto__: null },
  ['oui', 'oui'],
  'ab'.repeat(32),
  'AB'.repeat(32),
  '0x' + 'ab'.repeat(31),
];
const ODD_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  '\u0000',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'q1 ',
  'Q1',
  '💥',
];

/** Every path to a value in a JSON tree. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push(...paths(x, [...prefix, i]));
    });
  } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function setAt(root: any, path: (string | number)[], value: unknown): any {
  if (path.length === 0) return value;
  const copy = structuredClone(root);
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]!] = value;
  return copy;
}

/** A JSON text with `key` added at a random object of the tree (written as text so "__proto__" stays a plain key). */
function withKey(text: string, key: string, valueText: string): string {
  const braces = [...text.matchAll(/\{/g)].map((m) => m.index!);
  const at = pick(braces);
  const rest = text.slice(at + 1);
  return `${text.slice(0, at + 1)}${JSON.stringify(key)}:${valueText}${rest.startsWith('}') ? '' : ','}${rest}`;
}

type Case = { body: string; contentType?: string; path?: string; note: string };

function mutate(base: Submission): Case {
  const text = JSON.stringify(base);
  const kind = Math.floor(rand() * 12);
  switch (kind) {
    case 0: {
      // byte flips
      const bytes = Buffer.from(text);
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      return { body: bytes.toString('latin1'), note: 'byte flip' };
    }
    case 1: {
      // a value swapped for another type
      const p = pick(paths(base).filter((x) => x.length > 0));
      return { body: JSON.stringify(setAt(base, p, pick(ODD_VALUES))), note: `swap ${p.join('.')}` };
    }
    case 2: // truncation
      return { body: text.slice(0, Math.floor(rand() * text.length)), note: 'truncated' };
    case 3: {
      // huge values (some over 16 KiB: 413)
      const size = pick([1000, 10_000, 16_000, 17_000, 100_000]);
      const p = pick(paths(base).filter((x) => x.length > 0));
      return { body: JSON.stringify(setAt(base, p, 'z'.repeat(size))), note: `huge ${size}` };
    }
    case 4: {
      // deep nesting
      const depth = pick([100, 1000, 5000]);
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      const p = pick(paths(base).filter((x) => x.length > 0));
      const marker = '"__NEST__"';
      return { body: JSON.stringify(setAt(base, p, '__NEST__')).replace(marker, nested), note: `nested ${depth}` };
    }
    case 5: // prototype-pollution and odd keys anywhere
      return {
        body: withKey(
          text,
          pick(ODD_KEYS),
          pick(['{"polluted":true}', '["oui"]', 'null', '1', '{"prototype":{"polluted":true}}']),
        ),
        note: 'odd key',
      };
    case 6: // duplicate keys: JSON.parse keeps the last one
      return { body: text.replace(/^\{/, `{"signature":"${'0'.repeat(128)}",`), note: 'duplicate key' };
    case 7: // whole-body oddities
      return {
        body: pick([
          '',
          ' ',
          'null',
          '[]',
          '"ballot"',
          '1',
          'true',
          '{}',
          '{"ballot":null,"signature":null}',
          '\ufeff' + text,
          text + 'x',
          '[' + text + ']',
        ]),
        note: 'odd body',
      };
    case 8: // wrong or missing content type
      return {
        body: text,
        contentType: pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx']),
        note: 'content type',
      };
    case 9: {
      // odd strings in selections
      const c = pick(['q1', 'council', '\u0000', '__proto__', 'x'.repeat(70)]);
      const b = structuredClone(base) as any;
      // defineProperty: an own "__proto__" key, as JSON.parse would create it, not a prototype change
      Object.defineProperty(b.ballot.selections, c, {
        value: [pick(['oui', '\u0000', '\ud800', 'ana', 'ana', '💥'.repeat(40)])],
        enumerable: true,
        configurable: true,
        writable: true,
      });
      return { body: JSON.stringify(b), note: `selection ${JSON.stringify(c)}` };
    }
    case 10: // odd election ids in the URL
      return {
        body: text,
        path: `/api/v1/elections/${pick(['%00', 'FUZZ', 'fuzz%20', 'a'.repeat(64), '..%2F..', '%E2%80%AE', 'fuzz%00'])}/ballots`,
        note: 'odd url',
      };
    default: {
      // a re-encoding that keeps the value (same JSON, other bytes) or a harmless-looking change
      const b = structuredClone(base) as any;
      if (rand() < 0.5) return { body: JSON.stringify(b, null, pick([0, 1, 2, '\t'])), note: 're-encoded' };
      b.ballot.version = pick([1.0, '1', 2, [1]]);
      return { body: JSON.stringify(b), note: 'version' };
    }
  }
}

describe('fuzz of POST /api/v1/elections/{id}/ballots', () => {
  it(`${COUNT} mutated submissions: no 5xx, nothing stored, each refusal counted once (seed ${SEED})`, async () => {
    const before = await ledgerCounts(api.db, E);
    const cases = Array.from({ length: COUNT }, () => mutate(pick(bases)));
    const statuses = new Map<number, number>();
    let refused = 0;
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          const res = await fetch(api.url + (c.path ?? `/api/v1/elections/${E}/ballots`), {
            method: 'POST',
            headers: { 'content-type': c.contentType ?? 'application/json' },
            body: Buffer.from(c.body, c.note === 'byte flip' ? 'latin1' : 'utf8'),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500 || res.status === 201)
            failures.push(`${res.status} ${c.note}: ${c.body.slice(0, 200)} → ${text.slice(0, 200)}`);
          if (res.status === 200) continue; // a resubmission of a stored ballot: nothing written
          refused++;
          let body: any;
          try {
            body = JSON.parse(text);
          } catch {
            failures.push(`non-JSON ${res.status} for ${c.note}`);
            continue;
          }
          const code = body?.error?.code as keyof typeof ERROR_CODES;
          if (!ERROR_CODES[code] || ERROR_CODES[code].status !== res.status)
            failures.push(`${res.status} with code ${code} for ${c.note}`);
        }
      }),
    );
    expect(failures.slice(0, 20), `seed ${SEED}`).toEqual([]);
    const after = await ledgerCounts(api.db, E);
    expect(after.ballots).toBe(before.ballots);
    expect(after.nextSeq).toBe(before.nextSeq);
    // 429 never happens here (no rate limit): every refusal is counted once
    expect(after.rejected - before.rejected).toBe(refused);
    // no prototype was polluted in the server's process (the app runs in this process)
    expect(({} as any).polluted).toBeUndefined();
    expect((Object.prototype as any).polluted).toBeUndefined();
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    // the genuine ballot of voter 2 still goes in afterwards
    expect((await api.request('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[2]!, E) })).status).toBe(
      201,
    );
  }, 120_000);
});
