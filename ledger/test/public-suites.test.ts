// The server's strict Ed25519 (src/protocol/ed25519.ts, what the verify workers run) and its JCS
// (src/protocol/jcs.ts) against public suites written by others, vendored in docs/test-vectors/public/
// (its README says where each comes from): Wycheproof, ed25519-speccheck, cyberphone's RFC 8785 testdata.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { strictVerify } from '../src/protocol/ed25519.js';
import { jcs } from '../src/protocol/jcs.js';
import { credentialProblem } from '../src/protocol/protocol.js';

const suites = new URL('../../docs/test-vectors/public/', import.meta.url);
const bytesOf = (path: string) => readFileSync(new URL(path, suites));
const jsonOf = <T>(path: string): T => JSON.parse(bytesOf(path).toString('utf8')) as T;
const buf = (h: string) => Buffer.from(h, 'hex');

const expectations = jsonOf<{
  'ed25519-speccheck': { case: number; valid: boolean; reason: string | null; why: string }[];
  'json-canonicalization': { refused: Record<string, Record<string, string>> };
}>('expectations.json');

interface WycheproofCase {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
  pk: string;
}
const wycheproof = jsonOf<{
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: Omit<WycheproofCase, 'pk'>[] }[];
}>('wycheproof/ed25519_test.json');
const wycheproofCases: WycheproofCase[] = wycheproof.testGroups.flatMap((g) =>
  g.tests.map((t) => ({ ...t, pk: g.publicKey.pk })),
);

describe('Wycheproof ed25519_test.json', () => {
  it('holds every case its header counts, each valid or invalid (no "acceptable" left undecided)', () => {
    expect(wycheproofCases).toHaveLength(wycheproof.numberOfTests);
    expect(wycheproofCases.filter((c) => c.result === 'acceptable').map((c) => c.tcId)).toEqual([]);
  });

  it.each(wycheproofCases.map((c) => [`tcId ${c.tcId} (${c.result}) ${c.comment || c.flags.join(' ')}`, c] as const))(
    '%s',
    (_name, c) => {
      const problem = strictVerify(buf(c.pk), buf(c.msg), buf(c.sig));
      if (c.result === 'valid') expect(problem).toBeNull();
      else expect(problem).not.toBeNull();
    },
  );
});

describe('ed25519-speccheck cases.json', () => {
  const cases = jsonOf<{ message: string; pub_key: string; signature: string }[]>('ed25519-speccheck/cases.json');
  const verdicts = cases.map((c) => strictVerify(buf(c.pub_key), buf(c.message), buf(c.signature)));

  it('has the 12 cases, each with an expectation', () => {
    expect(cases).toHaveLength(12);
    expect(expectations['ed25519-speccheck'].map((e) => e.case)).toEqual(cases.map((_c, i) => i));
  });

  it.each(expectations['ed25519-speccheck'].map((e) => [`case ${e.case}: ${e.why}`, e] as const))('%s', (_name, e) =>
    expect(verdicts[e.case]).toBe(e.valid ? null : e.reason),
  );

  it('exactly one case verifies under the strict rules: case 3 (docs/protocol.md section 5)', () => {
    expect(verdicts.flatMap((v, i) => (v === null ? [i] : []))).toEqual([3]);
  });

  it('refuses the "negative zero" key of cases 10 and 11 as a roll credential too', () => {
    expect(credentialProblem(buf(cases[10]!.pub_key))).toBe('key-non-canonical');
  });
});

describe('cyberphone json-canonicalization testdata (RFC 8785), byte for byte', () => {
  const files = readdirSync(new URL('json-canonicalization/input/', suites)).sort();
  const refused = expectations['json-canonicalization'].refused;

  it('has the six upstream files, each with its output and outhex', () => {
    expect(files).toEqual([
      'arrays.json',
      'french.json',
      'structures.json',
      'unicode.json',
      'values.json',
      'weird.json',
    ]);
    expect(readdirSync(new URL('json-canonicalization/output/', suites)).sort()).toEqual(files);
    for (const f of files) {
      const hex = bytesOf(`json-canonicalization/outhex/${f.replace(/\.json$/, '.txt')}`)
        .toString('utf8')
        .trim()
        .split(/\s+/)
        .join('');
      expect(bytesOf(`json-canonicalization/output/${f}`).toString('hex'), f).toBe(hex);
    }
  });

  it.each(files)('%s', (f) => {
    const input = JSON.parse(bytesOf(`json-canonicalization/input/${f}`).toString('utf8'));
    const reason = refused[f]?.server;
    if (reason !== undefined) {
      expect(() => jcs(input), reason).toThrow();
      return;
    }
    expect(Buffer.from(jcs(input), 'utf8').equals(bytesOf(`json-canonicalization/output/${f}`))).toBe(true);
  });
});
