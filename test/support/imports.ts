// The repository's import graph, for the structure tests (test/architecture.test.ts and
// verifier-cli/test/independence.test.ts): module specifiers of a source file, relative ones resolved to
// files, and everything reachable from a set of roots with the chain that reached it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SOURCE_EXT = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** Every module specifier in `source`: import/export … from, bare import, import(), require(), new URL(…, import.meta.url), tsImport(). */
export function specifiers(source: string): string[] {
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
export function resolveRelative(from: string, spec: string): string {
  const target = resolve(dirname(from), spec);
  if (existsSync(target) && statSync(target).isFile()) return target;
  for (const [js, ts] of [
    ['.js', '.ts'],
    ['.mjs', '.mts'],
    ['.cjs', '.cts'],
  ] as const) {
    if (target.endsWith(js) && existsSync(target.slice(0, -js.length) + ts)) return target.slice(0, -js.length) + ts;
  }
  for (const ext of ['.ts', '.js', '/index.ts', '/index.js']) if (existsSync(target + ext)) return target + ext;
  return target;
}

/** Source files under `dir`, node_modules left out. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : filesUnder(p);
    return SOURCE_EXT.has(extname(e.name)) ? [p] : [];
  });
}

export const isUnder = (file: string, dir: string): boolean => file === dir || file.startsWith(dir + sep);

/** The files `file` imports by relative (or file:) specifier, resolved; bare package names as `package:<name>`. */
export function importsOf(file: string): string[] {
  if (!SOURCE_EXT.has(extname(file)) || !existsSync(file)) return [];
  return specifiers(readFileSync(file, 'utf8')).map((spec) => {
    if (spec.startsWith('file:')) return fileURLToPath(spec);
    if (spec.startsWith('.') || spec.startsWith('/')) return resolveRelative(file, spec);
    return `package:${spec}`;
  });
}

/** Every repository file reachable from `roots` through relative imports, with the chain that reached it. */
export function reachable(roots: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = roots.map((r) => [r, [relative(REPO, r)]] as [string, string[]]);
  while (queue.length > 0) {
    const [file, chain] = queue.shift()!;
    if (seen.has(file)) continue;
    seen.set(file, chain);
    for (const target of importsOf(file)) {
      if (target.startsWith('package:')) {
        // A bare specifier is a package from node_modules, unless it names this repository.
        const spec = target.slice('package:'.length);
        if (spec === 'tallyproof' || spec.startsWith('tallyproof/')) seen.set(target, [...chain, spec]);
        continue;
      }
      queue.push([target, [...chain, relative(REPO, target)]]);
    }
  }
  return seen;
}
