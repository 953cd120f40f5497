// Independence: verifier-cli/ is a second implementation. Nothing under it may reach ledger/, api/ or
// anchor-worker/, directly or through another file (tests included: test/support/fixtures.ts, for one,
// imports ledger/ and is off limits). The verifier itself (src/, bin/) may not leave verifier-cli/ at
// all, except for the contract's public ABI artifact.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VERIFIER = join(REPO, 'verifier-cli');
const FORBIDDEN = ['ledger', 'api', 'anchor-worker'];
const ALLOWED_OUTSIDE_FOR_VERIFIER = [join(REPO, 'contracts', 'artifacts', 'TallyAnchor.json')];
const SOURCE_EXT = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** Every module specifier in `source`: import/export … from, bare import, import(), require(), new URL(…, import.meta.url), tsImport(). */
function specifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]/g,
    /\bnew\s+URL\s*\(\s*['"`]([^'"`]+)['"`]\s*,\s*import\.meta\.url/g,
    /\btsImport\s*\(\s*['"`]([^'"`]+)['"`]/g,
  ];
  const out = new Set<string>();
  for (const re of patterns) for (const m of source.matchAll(re)) out.add(m[1]!);
  return [...out];
}

/** A relative specifier as a file on disk (`.js` written for a `.ts` source, as ESM TypeScript does). */
function resolveRelative(from: string, spec: string): string {
  const target = resolve(dirname(from), spec);
  if (existsSync(target) && statSync(target).isFile()) return target;
  for (const [js, ts] of [['.js', '.ts'], ['.mjs', '.mts'], ['.cjs', '.cts']] as const) {
    if (target.endsWith(js) && existsSync(target.slice(0, -js.length) + ts)) return target.slice(0, -js.length) + ts;
  }
  for (const ext of ['.ts', '.js', '/index.ts', '/index.js']) if (existsSync(target + ext)) return target + ext;
  return target;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : filesUnder(p);
    return SOURCE_EXT.has(extname(e.name)) ? [p] : [];
  });
}

const isUnder = (file: string, dir: string): boolean => file === dir || file.startsWith(dir + sep);

/** Every repository file reachable from `roots` through relative imports, with the chain that reached it. */
function reachable(roots: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = roots.map((r) => [r, [relative(REPO, r)]] as [string, string[]]);
  while (queue.length > 0) {
    const [file, chain] = queue.shift()!;
    if (seen.has(file)) continue;
    seen.set(file, chain);
    if (!SOURCE_EXT.has(extname(file)) || !existsSync(file)) continue;
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.') && !spec.startsWith('/') && !spec.startsWith('file:')) {
        // A bare specifier is a package from node_modules, unless it names this repository.
        if (spec === 'tallyproof' || spec.startsWith('tallyproof/')) seen.set(`package:${spec}`, [...chain, spec]);
        continue;
      }
      const target = spec.startsWith('file:') ? fileURLToPath(spec) : resolveRelative(file, spec);
      queue.push([target, [...chain, relative(REPO, target)]]);
    }
  }
  return seen;
}

/** Violations: forbidden directories reached from anywhere, and src/bin leaving verifier-cli/. */
function violations(roots: string[], verifierRoots: string[]): string[] {
  const out: string[] = [];
  for (const [file, chain] of reachable(roots)) {
    if (file.startsWith('package:tallyproof') || FORBIDDEN.some((d) => isUnder(file, join(REPO, d)))) out.push(chain.join(' -> '));
  }
  for (const [file, chain] of reachable(verifierRoots)) {
    if (!isUnder(file, VERIFIER) && !ALLOWED_OUTSIDE_FOR_VERIFIER.includes(file)) out.push(`verifier leaves verifier-cli/: ${chain.join(' -> ')}`);
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
      ['../../ledger/a.js', '../api/b.js', '../anchor-worker/c.js', './e.js', './f.js', './side-effect.js', './g.js', './h.cjs', './i.mjs', './j.ts'].sort(),
    );
  });

  it('flags a forbidden import, also through another file', () => {
    const roots = [join(REPO, 'test', 'support', 'fixtures.ts')];
    expect(existsSync(roots[0]!)).toBe(true);
    expect(violations(roots, []).join('\n')).toMatch(/ledger/);
  });

  it('nothing under verifier-cli/ reaches ledger/, api/ or anchor-worker/; src/ and bin/ stay inside verifier-cli/', () => {
    const all = filesUnder(VERIFIER);
    const verifier = all.filter((f) => isUnder(f, join(VERIFIER, 'src')) || isUnder(f, join(VERIFIER, 'bin')));
    expect(verifier.length).toBeGreaterThan(10);
    expect(violations(all, verifier)).toEqual([]);
  });
});
