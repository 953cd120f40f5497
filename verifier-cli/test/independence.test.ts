// Independence: verifier-cli/ is a second implementation. Nothing under it may reach ledger/, api/ or
// anchor-worker/, directly or through another file (tests included: test/support/fixtures.ts, for one,
// imports ledger/ and is off limits). The verifier itself (src/, bin/) may not leave verifier-cli/ at
// all, except for the contract's public ABI artifact and worker-pool/ (generic worker-thread plumbing that
// holds no protocol code; what it reaches is checked like the rest).
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
// The import graph helpers are shared with test/architecture.test.ts; they import nothing but node:.
import { REPO, filesUnder, isUnder, reachable, specifiers } from '../../test/support/imports.js';

const VERIFIER = join(REPO, 'verifier-cli');
const FORBIDDEN = ['ledger', 'api', 'anchor-worker'];
const ALLOWED_OUTSIDE_FOR_VERIFIER = [join(REPO, 'contracts', 'artifacts', 'TallyAnchor.json')];
const WORKER_POOL = join(REPO, 'worker-pool');

/** Violations: forbidden directories reached from anywhere, and src/bin leaving verifier-cli/. */
function violations(roots: string[], verifierRoots: string[]): string[] {
  const out: string[] = [];
  for (const [file, chain] of reachable(roots)) {
    if (file.startsWith('package:tallyproof') || FORBIDDEN.some((d) => isUnder(file, join(REPO, d))))
      out.push(chain.join(' -> '));
  }
  for (const [file, chain] of reachable(verifierRoots)) {
    if (isUnder(file, VERIFIER) || isUnder(file, WORKER_POOL)) continue;
    if (ALLOWED_OUTSIDE_FOR_VERIFIER.includes(file)) continue;
    out.push(`verifier leaves verifier-cli/: ${chain.join(' -> ')}`);
  }
  return [...new Set(out)];
}

describe('verifier-cli independence', () => {
  it('finds every kind of import', () => {
    // Built with ${q} so that this file's own text holds none of these imports.
    const q = "'";
    const source = `
      import a from ${q}../../ledger/a.js${q};
      import type { B } from ${q}../api/b.js${q};
      import { c,
        d } from ${q}../anchor-worker/c.js${q};
      export * from ${q}./e.js${q};
      export { f } from ${q}./f.js${q};
      import ${q}./side-effect.js${q};
      const g = await import(${q}./g.js${q});
      const h = require(${q}./h.cjs${q});
      const i = new URL(${q}./i.mjs${q}, import.meta.url);
      await tsImport(${q}./j.ts${q}, import.meta.url);
    `;
    expect(specifiers(source).sort()).toEqual(
      [
        '../../ledger/a.js',
        '../api/b.js',
        '../anchor-worker/c.js',
        './e.js',
        './f.js',
        './side-effect.js',
        './g.js',
        './h.cjs',
        './i.mjs',
        './j.ts',
      ].sort(),
    );
  });

  it('flags a forbidden import, also through another file', () => {
    const roots = [join(REPO, 'test', 'support', 'fixtures.ts')];
    expect(existsSync(roots[0]!)).toBe(true);
    expect(violations(roots, []).join('\n')).toMatch(/ledger/);
  });

  it('reaches no ledger/, api/, anchor-worker/; src/ and bin/ leave verifier-cli/ only for worker-pool/', () => {
    const all = filesUnder(VERIFIER);
    const verifier = all.filter((f) => isUnder(f, join(VERIFIER, 'src')) || isUnder(f, join(VERIFIER, 'bin')));
    expect(verifier.length).toBeGreaterThan(10);
    expect(violations(all, verifier)).toEqual([]);
  });

  it('follows the verifier into worker-pool/, so what worker-pool/ imports is checked as well', () => {
    const reached = [...reachable(filesUnder(join(VERIFIER, 'src'))).keys()];
    const inWorkerPool = reached.filter((f) => isUnder(f, WORKER_POOL)).map((f) => relative(REPO, f));
    expect(inWorkerPool).toContain('worker-pool/src/index.ts');
  });
});
