// docs/protocol.md's error table and ledger/src/protocol/errors.ts must list the same codes with the
// same statuses: a client written from the docs sees exactly what the server sends.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/protocol/errors.js';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## 10. Error codes'));
const documented = new Map([...section.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));

describe('error codes', () => {
  it('every code in errors.ts is documented with its status', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) expect(documented.get(code), code).toBe(status);
  });
  it('the docs list no stale code', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CODES)).toContain(code);
  });
});

// The brief lives beside the repository (../shared/DESIGN.md) in development and in CI; a bare clone has
// only docs/protocol.md, and then this check is reported as skipped, never as passed.
const designBrief = new URL('../../../shared/DESIGN.md', import.meta.url);

describe('protocol.md keeps the design brief wire format byte-exact', () => {
  it.skipIf(!existsSync(designBrief))('contains the wire format section verbatim', () => {
    const design = readFileSync(designBrief, 'utf8');
    const wf = design
      .slice(design.indexOf('## Wire format v1'), design.indexOf('## HTTP API'))
      .split('\n')
      .slice(1)
      .join('\n');
    expect(wf.length).toBeGreaterThan(1000);
    expect(doc).toContain(wf);
  });
});
