// Builds the voter and results pages into web/dist with esbuild's JS API:
//   web/dist/index.html, web/dist/results.html   the pages, linking the stylesheet and their script
//   web/dist/assets/style.css                     src/style.css and its @imports, minified
//   web/dist/assets/voter.js, results.js          the page scripts (ES modules) + shared chunks
//   web/dist/sw.js                                the voter page's service worker (src/sw.ts), with the
//                                                 list of files it caches for offline use
//   web/dist/manifest.webmanifest, icons/         the web app manifest and its icons (copied from static/)
//
// Nothing is inlined into the HTML: the API serves the pages with a Content-Security-Policy that allows
// scripts and styles from their own origin only (api/src/plugins/web.ts), and no inline <style>, <script>
// or style="…" (web/test/build.test.ts checks the built pages).
//
//   npx tsx web/build.ts            build once (what `npm run build:web` and postinstall run)
//   npx tsx web/build.ts --watch    rebuild on change, for working on the pages
//
// Everything is bundled from node_modules (noble, canonicalize, ethers): no CDN, no request to any
// other origin than the API itself and the chain's JSON-RPC endpoint.
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const WEB = dirname(fileURLToPath(import.meta.url));
export const DIST = join(WEB, 'dist');
/** URL path under which the API serves web/dist/assets (absolute: /results/{id} is one level down). */
const ASSETS_URL = '/assets';
/** The pages' one stylesheet, under assets/. */
const STYLESHEET = 'style.css';

const PAGES = [
  { html: 'index.html', entry: 'voter' },
  { html: 'results.html', entry: 'results' },
] as const;

function options(dist: string): esbuild.BuildOptions {
  return {
    absWorkingDir: WEB,
    entryPoints: Object.fromEntries(PAGES.map((p) => [p.entry, join(WEB, 'src', `${p.entry}.ts`)])),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    outdir: join(dist, 'assets'),
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [htmlPlugin(dist)],
  };
}

/** After each build: the stylesheet, and the HTML pages linking it and the bundles. */
function htmlPlugin(dist: string): esbuild.Plugin {
  return {
    name: 'tallyproof-html',
    setup(build) {
      build.onEnd(async (result) => {
        if (result.errors.length > 0) return;
        await writeFile(join(dist, 'assets', STYLESHEET), await buildCss());
        for (const page of PAGES) {
          let html = await readFile(join(WEB, page.html), 'utf8');
          html = replaceOnce(
            html,
            /<link rel="stylesheet" href="src\/style\.css" data-inline>/,
            `<link rel="stylesheet" href="${ASSETS_URL}/${STYLESHEET}">`,
            page.html,
          );
          html = replaceOnce(
            html,
            new RegExp(`<script type="module" src="src/${page.entry}\\.ts"></script>`),
            `<script type="module" src="${ASSETS_URL}/${page.entry}.js"></script>`,
            page.html,
          );
          await writeFile(join(dist, page.html), html);
        }
        await cp(join(WEB, 'static'), dist, { recursive: true });
        await buildServiceWorker(dist, result.metafile!);
      });
    },
  };
}

/** Files of web/static/ copied to dist as they are: the web app manifest and its icons. */
const STATIC_SHELL = ['/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png'];

/**
 * dist/sw.js from src/sw.ts (one classic script: a service worker cannot load the page's ES module
 * chunks everywhere), with the voter page's shell written in: `/`, the voter script and every chunk it
 * imports (statically or not), the stylesheet, the manifest and icons; and a hash of their bytes, so
 * that each build that changes the page is a new worker (the browser compares sw.js byte for byte).
 */
async function buildServiceWorker(dist: string, metafile: esbuild.Metafile): Promise<void> {
  const outputs = metafile.outputs;
  const voter = Object.keys(outputs).find((f) => outputs[f]!.entryPoint === 'src/voter.ts');
  if (!voter) throw new Error('web build: no voter.js output');
  const scripts = new Set<string>();
  const visit = (file: string): void => {
    if (scripts.has(file)) return;
    scripts.add(file);
    for (const i of outputs[file]?.imports ?? []) if (!i.external) visit(i.path);
  };
  visit(voter);
  const assets = [...scripts].map((f) => `${ASSETS_URL}/${relative(join(dist, 'assets'), join(WEB, f))}`);
  const shell = ['/', ...assets.sort(), `${ASSETS_URL}/${STYLESHEET}`, ...STATIC_SHELL];
  const hash = createHash('sha256');
  for (const url of shell) {
    const file = url === '/' ? 'index.html' : url.slice(1);
    hash
      .update(url)
      .update('\0')
      .update(await readFile(join(dist, file)));
  }
  await esbuild.build({
    entryPoints: [join(WEB, 'src', 'sw.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    outfile: join(dist, 'sw.js'),
    minify: true,
    logLevel: 'warning',
    define: { __SHELL__: JSON.stringify(shell), __VERSION__: JSON.stringify(hash.digest('hex').slice(0, 16)) },
  });
}

/** src/style.css with the files it @imports, minified. */
async function buildCss(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [join(WEB, 'src', 'style.css')],
    bundle: true,
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text.trim();
}

function replaceOnce(text: string, pattern: RegExp, replacement: string, file: string): string {
  if (!pattern.test(text)) throw new Error(`web/${file}: expected ${pattern} to be replaced`);
  return text.replace(pattern, () => replacement);
}

/**
 * Build web/dist from scratch; resolves with the files written (relative to dist) and their sizes. The
 * build goes to a temporary directory first and replaces dist in one rename, so a server reading dist
 * never sees a half-written page.
 */
export async function buildWeb(dist = DIST): Promise<{ file: string; bytes: number }[]> {
  const tmp = `${dist}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'assets'), { recursive: true });
  let result: esbuild.BuildResult;
  try {
    result = await esbuild.build(options(tmp));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await rm(dist, { recursive: true, force: true });
  await rename(tmp, dist);
  const files = Object.entries(result.metafile!.outputs).map(([file, o]) => ({
    file: relative(tmp, join(WEB, file)),
    bytes: o.bytes,
  }));
  for (const file of [...PAGES.map((p) => p.html), join('assets', STYLESHEET), 'sw.js'])
    files.push({ file, bytes: (await readFile(join(dist, file))).length });
  return files;
}

async function main(): Promise<void> {
  if (process.argv.includes('--watch')) {
    await rm(DIST, { recursive: true, force: true });
    await mkdir(join(DIST, 'assets'), { recursive: true });
    const ctx = await esbuild.context({ ...options(DIST), logLevel: 'info' });
    await ctx.watch();
    console.log(`web: watching web/src, writing ${relative(process.cwd(), DIST)}`);
    return;
  }
  const started = Date.now();
  const files = await buildWeb();
  const js = files.filter((f) => f.file.endsWith('.js')).reduce((n, f) => n + f.bytes, 0);
  const written = files.filter((f) => !f.file.endsWith('.map')).length;
  console.log(
    `web: built ${relative(process.cwd(), DIST) || DIST} (${written} files, ${Math.round(js / 1024)} KiB of JS) ` +
      `in ${Date.now() - started} ms`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    console.error(`web: build failed: ${err.message}`);
    process.exit(1);
  });
}
