// The page's strict Ed25519 (verifyEd25519Strict, what checks receipts in the browser) and its JCS
// (web/src/protocol.ts) against public suites written by others, vendored in docs/test-vectors/public/ (its
// README says where each comes from): Wycheproof, ed25519-speccheck, cyberphone's RFC 8785 testdata. Also
// against the project's own ed25519-strict.json, which the page's other test does not cover. Pure
// functions, run by `npm test` in node.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexToBytes, jcs, verifyEd25519Strict } from '../src/protocol.js';

const suites = new URL('../../docs/test-vectors/public/', import.meta.url);
const bytesOf = (path: string) => readFileSync(new URL(path, suites));
const jsonOf = <T>(path: string): T => JSON.parse(bytesOf(path).toString('utf8')) as T;
const verify = (pk: string, msg: string, sig: string) =>
  verifyEd25519Strict(hexToBytes(pk), hexToBytes(msg), hexToBytes(sig));

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
    (_name, c) => expect(verify(c.pk, c.msg, c.sig)).toBe(c.result === 'valid'),
  );
});

describe('ed25519-speccheck cases.json', () => {
  const cases = jsonOf<{ message: string; pub_key: string; signature: string }[]>('ed25519-speccheck/cases.json');
  const verdicts = cases.map((c) => verify(c.pub_key, c.message, c.signature));

  it('has the 12 cases, each with an expectation', () => {
    expect(cases).toHaveLength(12);
    expect(expectations['ed25519-speccheck'].map((e) => e.case)).toEqual(cases.map((_c, i) => i));
  });

  it.each(expectations['ed25519-speccheck'].map((e) => [`case ${e.case}: ${e.why}`, e] as const))('%s', (_name, e) =>
    expect(verdicts[e.case]).toBe(e.valid),
  );

  it('exactly one case verifies under the strict rules: case 3 (docs/protocol.md section 5)', () => {
    expect(verdicts.flatMap((v, i) => (v ? [i] : []))).toEqual([3]);
  });
});

describe("the project's ed25519-strict.json", () => {
  const v = JSON.parse(readFileSync(new URL('../../docs/test-vectors/ed25519-strict.json', import.meta.url), 'utf8'));
  it.each(
    (v.cases as { name: string; publicKey: string; message: string; signature: string; valid: boolean }[]).map(
      (c) => [c.name, c] as const,
    ),
  )('%s', (_name, c) => expect(verify(c.publicKey, c.message, c.signature)).toBe(c.valid));
});

describe('cyberphone json-canonicalization testdata (RFC 8785), byte for byte', () => {
  const files = readdirSync(new URL('json-canonicalization/input/', suites)).sort();
  const refused = expectations['json-canonicalization'].refused;

  it('has the six upstream files, each with its output', () => {
    expect(files).toEqual([
      'arrays.json',
      'french.json',
      'structures.json',
      'unicode.json',
      'values.json',
      'weird.json',
    ]);
    expect(readdirSync(new URL('json-canonicalization/output/', suites)).sort()).toEqual(files);
  });

  it.each(files)('%s', (f) => {
    const input = JSON.parse(bytesOf(`json-canonicalization/input/${f}`).toString('utf8'));
    const reason = refused[f]?.web;
    if (reason !== undefined) {
      expect(() => jcs(input), reason).toThrow();
      return;
    }
    // The page hashes the UTF-8 of the JCS text, so compare those bytes.
    expect(Buffer.from(new TextEncoder().encode(jcs(input))).equals(bytesOf(`json-canonicalization/output/${f}`))).toBe(
      true,
    );
  });
});
