// The verifier's strict Ed25519 (src/ed25519.ts, both engines: node:crypto and noble's point arithmetic) and
// its JCS (src/jcs.ts) against public suites written by others, vendored in docs/test-vectors/public/ (its
// README says where each comes from): Wycheproof, ed25519-speccheck, cyberphone's RFC 8785 testdata.
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { credentialProblem, verifyStrict, type Engine } from '../src/ed25519.js';
import { isCanonicalJson, isPlainlyCanonical, jcs } from '../src/jcs.js';
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

const ENGINES: Engine[] = ['node', 'noble'];

describe('Wycheproof ed25519_test.json', () => {
  it('holds every case its header counts, each valid or invalid (no "acceptable" left undecided)', () => {
    expect(wycheproofCases).toHaveLength(wycheproofCount);
    expect(wycheproofCases.filter((c) => c.result === 'acceptable').map((c) => c.tcId)).toEqual([]);
  });

  for (const engine of ENGINES) {
    it.each(wycheproofRows)(`${engine}: %s`, (_name, c) => {
      const problem = verifyStrict(hexToBytes(c.pk), hexToBytes(c.msg), hexToBytes(c.sig), engine);
      if (c.result === 'valid') expect(problem).toBeNull();
      else expect(problem).not.toBeNull();
    });
  }

  it('both engines give the same reason on every case', () => {
    for (const c of wycheproofCases) {
      const [pk, msg, sig] = [hexToBytes(c.pk), hexToBytes(c.msg), hexToBytes(c.sig)];
      expect(verifyStrict(pk, msg, sig, 'noble'), `tcId ${c.tcId}`).toBe(verifyStrict(pk, msg, sig, 'node'));
    }
  });
});

describe('ed25519-speccheck cases.json', () => {
  const verdict = (i: number, engine: Engine) => {
    const c = cases[i]!;
    return verifyStrict(hexToBytes(c.pub_key), hexToBytes(c.message), hexToBytes(c.signature), engine);
  };

  it('has the 12 cases, each with an expectation', () => {
    expect(cases).toHaveLength(12);
    expect(expectations['ed25519-speccheck'].map((e) => e.case)).toEqual(cases.map((_c, i) => i));
  });

  for (const engine of ENGINES) {
    it.each(speccheckRows)(`${engine}: %s`, (_name, e) =>
      expect(verdict(e.case, engine)).toBe(e.valid ? null : e.reason),
    );

    it(`${engine}: exactly one case verifies under the strict rules: case 3 (docs/protocol.md section 5)`, () => {
      expect(cases.flatMap((_c, i) => (verdict(i, engine) === null ? [i] : []))).toEqual([3]);
    });
  }

  it('refuses the "negative zero" key of cases 10 and 11 as a roll credential too', () => {
    expect(credentialProblem(hexToBytes(cases[10]!.pub_key))).toBe('key-non-canonical');
  });
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
    const inputText = jcsInputText(f);
    const output = jcsOutput(f);
    const reason = refused[f]?.verifier;
    if (reason !== undefined) {
      expect(() => jcs(JSON.parse(inputText)), reason).toThrow();
      return;
    }
    expect(Buffer.from(jcs(JSON.parse(inputText)), 'utf8').equals(output)).toBe(true);
    // The audit's canonical-text checks: the output is its own JCS, the input is not, and the one-pass
    // shortcut never calls a non-canonical text canonical.
    expect(isCanonicalJson(output.toString('utf8'))).toBe(true);
    expect(isCanonicalJson(inputText)).toBe(false);
    expect(isPlainlyCanonical(inputText)).toBe(false);
  });
});
