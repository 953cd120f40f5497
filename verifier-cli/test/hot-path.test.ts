// The audit's fast paths against the slow, obvious forms they replace: the JCS check without
// re-serialising, the raw ballot member, the ballot hash and message built in one buffer, the roll built
// in turns.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { checkLedgerRow, type RowContext } from '../src/audit/row-check.js';
import { ballotHash, submissionJcs } from '../src/ballot.js';
import { keyMayBeRefused, publicKeyProblem, SMALL_ORDER_ENCODINGS } from '../src/ed25519.js';
import { fromHex, sha256Hex, sha256Into, toHex } from '../src/hex.js';
import { isPlainlyCanonical, jcs, rawMember, rawMemberOnce } from '../src/jcs.js';
import { ballotRules } from '../src/protocol.js';
import { buildRoll, buildRollYielding } from '../src/roll.js';
import { castBallot, makeManifest, makeVoter, rowLine, selectionsFor } from './support/election.js';

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY_POOL = [
  '',
  'a',
  'b',
  'A',
  'Z',
  '_',
  'aa',
  'ab',
  'b1',
  '10',
  '2',
  '__proto__',
  'toJSON',
  'é',
  'z\u0000',
  'q"',
  'k\\',
  ' ',
];
const STRING_POOL = [
  '',
  'x',
  'hello world',
  'tab\there',
  'quote"',
  'back\\slash',
  'é',
  '😀',
  '\ud800',
  '\u007f',
  '\u001f',
  '~',
  '<>',
];
const NUMBER_POOL = [
  0,
  -0,
  1,
  -1,
  7,
  42,
  1.5,
  -2.25,
  1e21,
  1e-7,
  123456789012345,
  1234567890123456,
  2 ** 53,
  -(2 ** 31),
  0.1,
];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 3 || r < 0.35) {
    const s = rand();
    if (s < 0.35) return STRING_POOL[Math.floor(rand() * STRING_POOL.length)];
    if (s < 0.7) return NUMBER_POOL[Math.floor(rand() * NUMBER_POOL.length)];
    return [true, false, null][Math.floor(rand() * 3)];
  }
  if (r < 0.55) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--)
    out[KEY_POOL[Math.floor(rand() * KEY_POOL.length)]!] = randomValue(rand, depth + 1);
  return out;
}

/** Texts of one value: canonical, as JSON.stringify writes it, indented, and hand-mangled variants. */
function textsOf(value: unknown, rand: () => number): string[] {
  const canonical = jcs(value);
  const texts = [canonical, JSON.stringify(value), JSON.stringify(value, null, 1)];
  const mangle = [
    (t: string) => t.replace(':', ' :'),
    (t: string) => t.replace(',', ', '),
    (t: string) => t.replace(/(\d+)/, '$1.0'),
    (t: string) => t.replace(/(\d+)/, '$1e0'),
    (t: string) => t.replace(/(\d+)/, '-$1'),
    (t: string) => t.replace('"a"', '"\\u0061"'),
    (t: string) => t.replace('"b"', '"\\u0062"'),
    (t: string) => t.replace(/"([a-z]+)"/, '"\\/$1"'),
    (t: string) => ` ${t}`,
    (t: string) => `${t}\n`,
    (t: string) => t.replace(/\{"([^"]*)":(\d+),"([^"]*)":(\d+)\}/, '{"$3":$4,"$1":$2}'),
    (t: string) => t.replace(/\{"([^"]*)":([^,{}[\]]+)\}/, '{"$1":$2,"$1":$2}'),
  ];
  for (let i = 0; i < 4; i++) texts.push(mangle[Math.floor(rand() * mangle.length)]!(canonical));
  return texts;
}

describe('isPlainlyCanonical', () => {
  it('accepts only text that is its own JCS serialisation (random values, texts and mangled texts)', () => {
    const rand = prng(20261123);
    let accepted = 0;
    let checked = 0;
    for (let n = 0; n < 4000; n++) {
      const value = randomValue(rand, 0);
      for (const text of textsOf(value, rand)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue; // the row check only asks about text JSON.parse accepted
        }
        checked++;
        if (isPlainlyCanonical(text)) {
          accepted++;
          expect(jcs(parsed), text).toBe(text);
        }
      }
    }
    expect(checked).toBeGreaterThan(20_000);
    expect(accepted).toBeGreaterThan(2_000); // the fast path is taken, not just sound
  });

  it('decides the hand-picked cases', () => {
    const yes = [
      '{}',
      '[]',
      '{"a":1,"b":[true,false,null],"c":{"":0,"d":"x y"}}',
      '{"":1,"a":2}',
      '-12',
      '"~"',
      '[0,-1,123456789012345]',
    ];
    const no = [
      '{"b":1,"a":2}',
      '{"a":1,"a":1}',
      '{"a": 1}',
      ' {}',
      '{}\n',
      '1.0',
      '1e2',
      '-0',
      '1234567890123456',
      '"\\u0061"',
      '"\\/"',
      '"é"',
      '"\\n"',
      '{"\\u0061":1}',
      '{"Z":1,"a":2,"B":3}',
    ];
    for (const t of yes) {
      expect(isPlainlyCanonical(t), t).toBe(true);
      expect(jcs(JSON.parse(t)), t).toBe(t);
    }
    for (const t of no) expect(isPlainlyCanonical(t), t).toBe(false);
  });
});

describe('rawMemberOnce', () => {
  it('finds the exact text of every member of random objects (escapes, quotes, backslash runs, nesting)', () => {
    const rand = prng(7);
    const pieces = ['a', '"', '\\', '\\\\', '}', ']', '{', ',', ':', ' ', 'é', '\u0000'];
    const text = () =>
      Array.from({ length: Math.floor(rand() * 8) }, () => pieces[Math.floor(rand() * pieces.length)]).join('');
    for (let n = 0; n < 2000; n++) {
      const obj: Record<string, unknown> = {};
      for (let k = 0; k < 5; k++)
        obj[`${text()}k${k}`] = rand() < 0.5 ? text() : { [text()]: [text(), 1, { x: text() }] };
      const line = rand() < 0.5 ? JSON.stringify(obj) : JSON.stringify(obj, null, 1);
      for (const [key, value] of Object.entries(obj)) {
        const found = rawMemberOnce(line, key);
        expect(found?.once).toBe(true);
        expect(JSON.parse(found!.text)).toEqual(value);
        if (line === JSON.stringify(obj)) expect(found!.text).toBe(JSON.stringify(value));
      }
    }
  });

  it('gives the first member and whether its name repeats (JSON.parse keeps the last)', () => {
    expect(rawMemberOnce('{"a":1,"ballot":{"x":[1]},"z":2}', 'ballot')).toEqual({ text: '{"x":[1]}', once: true });
    expect(rawMemberOnce('{"ballot":{"x":1},"b\\u0061llot":{"x":2}}', 'ballot')).toEqual({
      text: '{"x":1}',
      once: false,
    });
    expect(rawMemberOnce('{"a":1}', 'ballot')).toBeUndefined();
    expect(rawMember('{"ballot":1,"ballot":2}', 'ballot')).toBe('1');
  });
});

describe('row check, one buffer for the message and the hash', () => {
  const manifest = makeManifest('hot-2026', toHex(ed25519.getPublicKey(new Uint8Array(32))));
  const context: RowContext = { rules: ballotRules(manifest as never), engine: 'node' };
  const voter = makeVoter('hot-0');
  const honest = castBallot(voter, manifest.electionId, selectionsFor(1), 0);

  it('hashes and verifies as the plain formulas do, for plain, non-ASCII and lone-surrogate ballots', () => {
    const odd = [
      honest.ballot,
      { ...honest.ballot, selections: { q1: ['oui'], council: ['chloé', '😀'] } },
      { ...honest.ballot, selections: { q1: ['\ud800'], council: [] } },
      { ...honest.ballot, electionId: 'x'.repeat(20_000) }, // longer than the reused buffer
    ];
    for (const ballot of odd) {
      const text = jcs(ballot);
      const signature = voter.sign(Buffer.from(`tallyproof:ballot:v1:${text}`, 'utf8')).toString('hex');
      const line = `{"seq":0,"ballotHash":"${'00'.repeat(32)}","ballot":${text},"signature":"${signature}","receivedAt":"${honest.receivedAt}"}`;
      const result = checkLedgerRow(line, 1, context);
      const expected = bytesToHex(sha256(utf8ToBytes(submissionJcs(text, signature))));
      expect(result.leaf).toBe(expected);
      expect(toHex(ballotHash(text, signature))).toBe(expected);
      expect(result.signatureValid).toBe(true);
      expect(result.problems.map((p) => p.code)).toContain('ballot-hash-mismatch');
    }
  });

  it('still compares the first "ballot" member with the ballot JSON.parse kept when the member repeats', () => {
    const other = castBallot(makeVoter('hot-1'), manifest.electionId, selectionsFor(2), 0);
    const line = rowLine(honest).replace('"ballot":', `"ballot":${other.ballotText},"ballot":`);
    const result = checkLedgerRow(line, 1, context);
    expect(result.problems.map((p) => p.code)).toEqual(['not-canonical']);
    expect(result.credential).toBe(honest.ballot.credential);
    expect(result.leaf).toBe(honest.ballotHash);
  });

  it('reports a non-canonical ballot the fast path declines', () => {
    const spaced = rowLine(honest).replace(
      `"ballot":${honest.ballotText}`,
      `"ballot":${JSON.stringify(honest.ballot, null, 1)}`,
    );
    expect(checkLedgerRow(spaced, 1, context).problems.map((p) => p.code)).toEqual(['not-canonical']);
  });
});

describe('SHA-256 as the hot paths take it', () => {
  it('sha256Hex and sha256Into agree with noble on every length around the block sizes', () => {
    const out = Buffer.alloc(96, 0xee);
    for (let n = 0; n < 300; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
      const expected = bytesToHex(sha256(data));
      expect(sha256Hex(data)).toBe(expected);
      sha256Into(data, out, 32);
      expect(out.subarray(32, 64).toString('hex')).toBe(expected);
      expect(
        out.subarray(0, 32).equals(Buffer.alloc(32, 0xee)) && out.subarray(64).equals(Buffer.alloc(32, 0xee)),
      ).toBe(true);
    }
  });
});

describe('roll', () => {
  it('only checks further the keys whose first byte publicKeyProblem can refuse', () => {
    const tails = [
      ...SMALL_ORDER_ENCODINGS,
      '01' + '00'.repeat(30) + '80',
      'ec' + 'ff'.repeat(31),
      'ee' + 'ff'.repeat(30) + '7f',
      'ff'.repeat(32),
    ].map((k) => fromHex(k));
    for (let first = 0; first < 256; first++) {
      for (const tail of tails) {
        const key = Uint8Array.from(tail);
        key[0] = first;
        if (!keyMayBeRefused(first)) expect(publicKeyProblem(key), `first byte ${first}`).toBeNull();
      }
    }
    for (const k of SMALL_ORDER_ENCODINGS) expect(keyMayBeRefused(fromHex(k)[0]!)).toBe(true);
  });

  it('is the same built in turns as at once', async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => bytesToHex(sha256(utf8ToBytes(`roll-${i % 2900}`))));
    keys.push('00'.repeat(32), 'AB'.repeat(32));
    const once = buildRoll(keys);
    const turns = await buildRollYielding(keys, 100);
    expect(toHex(turns.packed)).toBe(toHex(once.packed));
    expect(turns.problems).toEqual(once.problems);
    expect([...turns.keys.keys()].sort()).toEqual([...once.keys.keys()].sort());
    expect(turns.sorted.map(toHex)).toEqual([...once.keys.keys()].sort());
  });
});
