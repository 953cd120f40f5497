// The server's strict Ed25519 (src/protocol/ed25519.ts, what the verify workers run) and its JCS
// (src/protocol/jcs.ts) against public suites written by others, vendored in docs/test-vectors/public/
// (its README says where each comes from): Wycheproof, ed25519-speccheck, cyberphone's RFC 8785 testdata.
import { describe, expect, it } from 'vitest';
import { strictVerify } from '../src/protocol/ed25519.js';
import { jcs } from '../src/protocol/jcs.js';
import { credentialProblem } from '../src/protocol/protocol.js';
import {
  expectations,
  jcsFiles,
  jcsInputText,
  jcsOutHex,
  jcsOutput,
  jcsOutputFiles,
  speccheckCases as cases,
  speccheckRows,
  wycheproofCases,
  wycheproofCount,
  wycheproofRows,
} from '../../test/support/public-suites.js';

const buf = (h: string) => Buffer.from(h, 'hex');

describe('Wycheproof ed25519_test.json', () => {
  it('holds every case its header counts, each valid or invalid (no "acceptable" left undecided)', () => {
    expect(wycheproofCases).toHaveLength(wycheproofCount);
    expect(wycheproofCases.filter((c) => c.result === 'acceptable').map((c) => c.tcId)).toEqual([]);
  });

  it.each(wycheproofRows)('%s', (_name, c) => {
    const problem = strictVerify(buf(c.pk), buf(c.msg), buf(c.sig));
    if (c.result === 'valid') expect(problem).toBeNull();
    else expect(problem).not.toBeNull();
  });
});

describe('ed25519-speccheck cases.json', () => {
  const verdicts = cases.map((c) => strictVerify(buf(c.pub_key), buf(c.message), buf(c.signature)));

  it('has the 12 cases, each with an expectation', () => {
    expect(cases).toHaveLength(12);
    expect(expectations['ed25519-speccheck'].map((e) => e.case)).toEqual(cases.map((_c, i) => i));
  });

  it.each(speccheckRows)('%s', (_name, e) => expect(verdicts[e.case]).toBe(e.valid ? null : e.reason));

  it('exactly one case verifies under the strict rules: case 3 (docs/protocol.md section 5)', () => {
    expect(verdicts.flatMap((v, i) => (v === null ? [i] : []))).toEqual([3]);
  });

  it('refuses the "negative zero" key of cases 10 and 11 as a roll credential too', () => {
    expect(credentialProblem(buf(cases[10]!.pub_key))).toBe('key-non-canonical');
  });
});

describe('cyberphone json-canonicalization testdata (RFC 8785), byte for byte', () => {
  const files = jcsFiles;
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
    expect(jcsOutputFiles).toEqual(files);
    for (const f of files) expect(jcsOutput(f).toString('hex'), f).toBe(jcsOutHex(f));
  });

  it.each(files)('%s', (f) => {
    const input = JSON.parse(jcsInputText(f));
    const reason = refused[f]?.server;
    if (reason !== undefined) {
      expect(() => jcs(input), reason).toThrow();
      return;
    }
    expect(Buffer.from(jcs(input), 'utf8').equals(jcsOutput(f))).toBe(true);
  });
});
