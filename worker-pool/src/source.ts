// How a worker module written in TypeScript starts in a worker thread, which cannot load TypeScript by
// itself. Compiled (a .js next to the .ts, and no .ts): that .js. From the sources: the module and its
// imports bundled by esbuild (the compiler tsx itself uses) into one ES module in the temp directory,
// named by its content hash, so a thread boots in about the time plain JavaScript takes, where a
// TypeScript loader per thread costs seconds on a busy machine. Without esbuild: the .ts itself, which
// boot.mjs loads through tsx's tsImport.
//
// A bundle is reused without running esbuild while its inputs keep their sizes and mtimes (an index file
// next to it lists them, with the bundle's SHA-256, checked before use).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BUNDLE_DIR = join(tmpdir(), 'tallyproof-workers');

/**
 * piscina stays outside the bundle, imported from this installation: `Piscina.move` in a worker marks a
 * result with a symbol private to the piscina module instance that piscina's own worker code checks.
 */
const PISCINA = pathToFileURL(createRequire(import.meta.url).resolve('piscina')).href;

const sources = new Map<string, Promise<URL>>();

/**
 * The module a worker thread imports for `entry` (a .ts, or a compiled .js), computed once per entry.
 * `typescript: 'tsx'` skips the bundle: the .ts itself, for boot.mjs to load through tsx.
 */
export function workerSource(entry: URL, typescript: 'bundle' | 'tsx'): Promise<URL> {
  if (typescript === 'tsx') return Promise.resolve(entry);
  let source = sources.get(entry.href);
  if (source === undefined) {
    source = resolveSource(entry);
    sources.set(entry.href, source);
  }
  return source;
}

async function resolveSource(entry: URL): Promise<URL> {
  if (!entry.pathname.endsWith('.ts')) return entry;
  const compiled = new URL(entry.href.replace(/\.ts$/, '.js'));
  if (!existsSync(fileURLToPath(entry)) && existsSync(fileURLToPath(compiled))) return compiled;
  const indexFile = join(BUNDLE_DIR, `index-${sha256Hex(entry.href).slice(0, 16)}.json`);
  const cached = await cachedBundle(indexFile);
  if (cached !== undefined) return cached;
  let out: BuildResult;
  try {
    out = await bundle(entry);
  } catch {
    return entry; // no esbuild here: boot.mjs loads the .ts through tsx
  }
  const workingDir = fileURLToPath(new URL('.', entry));
  const code = out.outputFiles[0]!.contents;
  const digest = sha256Hex(code);
  const file = join(BUNDLE_DIR, `worker-${digest.slice(0, 16)}.mjs`);
  await mkdir(BUNDLE_DIR, { recursive: true });
  if (!existsSync(file)) await writeAtomically(file, code);
  try {
    const inputs: Record<string, [number, number]> = {};
    for (const input of Object.keys(out.metafile.inputs)) {
      const path = resolve(workingDir, input);
      const st = await stat(path);
      inputs[path] = [st.size, st.mtimeMs];
    }
    await writeAtomically(indexFile, JSON.stringify({ bundle: file, sha256: digest, inputs } satisfies BundleIndex));
  } catch {
    // no index: esbuild runs again next time
  }
  return pathToFileURL(file);
}

type BuildResult = Awaited<ReturnType<typeof bundle>>;

const REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";
const externalPiscina = () => ({ path: PISCINA, external: true });
/**
 * Native addons stay outside the bundle too, imported from this installation: sodium-native finds its
 * binary from its own file's path (`__filename`), which a bundle in the temp directory has not.
 */
const NATIVE_ADDON = /^sodium-native$/;
const externalAddon = (args: { path: string }) => ({
  path: pathToFileURL(createRequire(import.meta.url).resolve(args.path)).href,
  external: true,
});

/** `entry` and its imports as one ES module (in memory), with the list of its input files. */
async function bundle(entry: URL) {
  const { build } = await import('esbuild');
  return build({
    entryPoints: [fileURLToPath(entry)],
    absWorkingDir: fileURLToPath(new URL('.', entry)),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      { name: 'piscina-external', setup: (b) => b.onResolve({ filter: /^piscina$/ }, externalPiscina) },
      { name: 'addon-external', setup: (b) => b.onResolve({ filter: NATIVE_ADDON }, externalAddon) },
    ],
    // For CommonJS dependencies that require() node built-ins.
    banner: { js: REQUIRE_BANNER },
  });
}

interface BundleIndex {
  bundle: string;
  sha256: string;
  /** Each input file of the bundle: [size, mtimeMs] when it was built. */
  inputs: Record<string, [number, number]>;
}

/** The bundle an index file names, if every input is unchanged and the bundle's hash still matches. */
async function cachedBundle(indexFile: string): Promise<URL | undefined> {
  try {
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as BundleIndex;
    const inputs = Object.entries(index.inputs);
    if (inputs.length === 0) return undefined;
    const unchanged = await Promise.all(
      inputs.map(async ([path, [size, mtimeMs]]) => {
        const st = await stat(path);
        return st.size === size && st.mtimeMs === mtimeMs;
      }),
    );
    if (!unchanged.every(Boolean)) return undefined;
    if (sha256Hex(await readFile(index.bundle)) !== index.sha256) return undefined;
    return pathToFileURL(index.bundle);
  } catch {
    return undefined;
  }
}

async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(partial, data);
  await rename(partial, file);
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
