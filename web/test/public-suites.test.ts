// The page's strict Ed25519 (verifyEd25519Strict, what checks receipts in the browser) and its JCS
// (web/src/protocol.ts) against public suites written by others, vendored in docs/test-vectors/public/ (its
// README says where each comes from): Wycheproof, ed25519-speccheck, cyberphone's RFC 8785 testdata. Also
// against the project's own ed25519-strict.json, which the page's other test does not cover. Pure
// functions, run by `npm test` in node.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexToBytes, jcs, verifyEd25519Strict } from '../src/protocol.js';
import {
  expectations,
  jcsFiles,
  jcsInputText,
  jcsOutput,
  jcsOutputFiles,
  speccheckCases as cases,
  speccheckRows,
  wycheproofCases,
  wycheproofCount,
  wycheproofRows,
} from '../../test/support/public-suites.js';

const verify = (pk: string, msg: string, sig: string) =>
  verifyEd25519Strict(hexToBytes(pk), hexToBytes(msg), hexToBytes(sig));

describe('Wycheproof ed25519_test.json', () => {
  it('holds every case its header counts, each valid or invalid (no "acceptable" left undecided)', () => {
    expect(wycheproofCases).toHaveLength(wycheproofCount);
    expect(wycheproofCases.filter((c) => c.result === 'acceptable').map((c) => c.tcId)).toEqual([]);
  });

  it.each(wycheproofRows)('%s', (_name, c) => expect(verify(c.pk, c.msg, c.sig)).toBe(c.result === 'valid'));
});

describe('ed25519-speccheck cases.json', () => {
  const verdicts = cases.map((c) => verify(c.pub_key, c.message, c.signature));

  it('has the 12 cases, each with an expectation', () => {
    expect(cases).toHaveLength(12);
    expect(expectations['ed25519-speccheck'].map((e) => e.case)).toEqual(cases.map((_c, i) => i));
  });

  it.each(speccheckRows)('%s', (_name, e) => expect(verdicts[e.case]).toBe(e.valid));

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
  const files = jcsFiles;
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
    expect(jcsOutputFiles).toEqual(files);
  });

  it.each(files)('%s', (f) => {
    const input = JSON.parse(jcsInputText(f));
    const reason = refused[f]?.web;
    if (reason !== undefined) {
      expect(() => jcs(input), reason).toThrow();
      return;
    }
    // The page hashes the UTF-8 of the JCS text, so compare those bytes.
    expect(Buffer.from(new TextEncoder().encode(jcs(input))).equals(jcsOutput(f))).toBe(true);
  });
});
