// `tiles save`: an observer's copy of an election's tiles. Every hash tile and entry bundle of every sealed window
// (every shard's) is downloaded from the server (…/api/v1/elections/{id}/[shards/{s}/]windows/{w}/tile/…) into
// a directory laid out the same way, which `receipt --tiles DIR` and `audit --tiles DIR` read later.
//   - The windows and their roots come from the chain when --rpc is given (with one shard getWindow; with
//     several the anchor intervals' records, served by GET …/intervals, each interval's checked against its root
//     on chain): only anchored windows, each checked against its root on chain. Without --rpc they come from
//     GET …/windows (every shard's): every sealed window, checked against the root the server lists (its word).
//   - A window is checked as a whole before anything of it is written: its entry bundles give its leaves, whose
//     tiles (TreeTiles) must be byte for byte the hash tiles served or already there, and whose RFC 6962 root
//     must be the window's root. A window that does not check gets a finding and none of its files is written.
//   - Resumable: a file already there is not downloaded again (it is checked with the rest of its window); files
//     are written to a temporary name and renamed, so a file there is whole. `election.json` (the election
//     document) and, with several shards, `intervals.json` (every interval with its records) are rewritten on
//     each run, so that a receipt can be checked from the copy without the API.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AuditProgress } from '../audit/audit.js';
import { ChainReader, readConcurrently, type ChainInterval } from '../chain.js';
import { checkManifestHash } from '../checks.js';
import { finding, InputError, type Finding } from '../errors.js';
import { bytesEqual, isHex, short, toHex } from '../hex.js';
import { merkleTreeHeadPacked } from '../merkle.js';
import { counted } from '../plural.js';
import { isPlainObject, manifestProblem, shardCount } from '../protocol.js';
import { intervalRoot, servedInterval } from '../shards.js';
import { INTERVALS_PAGE } from '../sources/api.js';
import { apiBase, getAllPages, getJson } from '../sources/http.js';
import { HttpTileSource, windowTilesPath, type HttpTileOptions } from '../sources/tiles.js';
import {
  entryBundlesOfTree,
  formatTilePath,
  parseEntryBundle,
  TileError,
  tilesOfTree,
  TreeTiles,
  type Tile,
} from '../tiles.js';

export interface TilesSaveOptions {
  api: string;
  electionId: string;
  out: string;
  /** Windows below this index (in every shard) are left alone. */
  fromWindow: number;
  /** With --rpc, the windows and roots come from the chain. */
  rpcUrl?: string;
  /** The contract (default: the one the server names, reported as such). */
  contract?: string;
  http?: HttpTileOptions;
  progress?: AuditProgress;
}

/** A window to save: its place and range, and the root its tiles must give. */
interface WindowToSave {
  shard?: number;
  index: number;
  firstSeq: number;
  count: number;
  root: string;
}

export interface SavedWindow extends WindowToSave {
  /** Hash tiles and entry bundles the window has. */
  tiles: number;
  downloaded: number;
  /** Files already there (checked with the rest). */
  present: number;
  /** saved: checked, written; failed: did not check (a finding says why); incomplete: tiles not served. */
  status: 'saved' | 'failed' | 'incomplete';
  message?: string;
}

export interface TilesSaveReport {
  tool: 'tallyproof-verify tiles save';
  electionId: string;
  api: string;
  out: string;
  /** chain: roots read from the chain; server: the server's windows list, not checked against the chain. */
  rootsFrom: 'chain' | 'server';
  chain?: { rpcUrl: string; chainId: number; contract: string; contractFrom: 'argument' | 'server' };
  shards: number;
  fromWindow: number;
  windows: SavedWindow[];
  totals: { windows: number; tiles: number; downloaded: number; present: number };
  /** saved: every window saved; failed: a check failed (exit 1); incomplete: tiles not served (exit 2). */
  verdict: 'saved' | 'failed' | 'incomplete';
  findings: Finding[];
}

export async function runTilesSave(opts: TilesSaveOptions): Promise<TilesSaveReport> {
  const api = apiBase(opts.api);
  const base = `${api}/api/v1/elections/`;
  const id = encodeURIComponent(opts.electionId);
  const source = new HttpTileSource(base, opts.http);
  const report: TilesSaveReport = {
    tool: 'tallyproof-verify tiles save',
    electionId: opts.electionId,
    api,
    out: opts.out,
    rootsFrom: opts.rpcUrl === undefined ? 'server' : 'chain',
    shards: 1,
    fromWindow: opts.fromWindow,
    windows: [],
    totals: { windows: 0, tiles: 0, downloaded: 0, present: 0 },
    verdict: 'saved',
    findings: [],
  };
  const finish = (): TilesSaveReport => {
    const t = report.totals;
    for (const w of report.windows) {
      t.tiles += w.tiles;
      t.downloaded += w.downloaded;
      t.present += w.present;
    }
    t.windows = report.windows.filter((w) => w.status === 'saved').length;
    if (report.findings.some((f) => f.severity === 'error')) report.verdict = 'failed';
    else if (report.windows.some((w) => w.status === 'incomplete')) report.verdict = 'incomplete';
    return report;
  };

  const document = await getJson(`${base}${id}`);
  const manifest = isPlainObject(document) ? document.manifest : undefined;
  const problem = manifestProblem(manifest);
  if (problem !== null) {
    report.findings.push(finding('manifest-invalid', `the server's manifest: ${problem}`));
    return finish();
  }
  const shards = shardCount(manifest as { shards?: number });
  report.shards = shards;
  const intervalsServed =
    shards > 1
      ? await getAllPages('intervals', (from) => `${base}${id}/intervals?from=${from}&limit=${INTERVALS_PAGE}`)
      : undefined;

  let windows: WindowToSave[];
  if (opts.rpcUrl === undefined) {
    windows = await serverWindows(base, id, shards, opts.fromWindow, report.findings);
  } else {
    const named = isPlainObject(document) && typeof document.contract === 'string' ? document.contract : undefined;
    const contract = opts.contract ?? named;
    if (contract === undefined) throw new InputError('no --contract given and the server names none: pass --contract');
    const chain = await ChainReader.connect(opts.rpcUrl, contract);
    try {
      report.chain = {
        rpcUrl: opts.rpcUrl,
        chainId: chain.chainId,
        contract: chain.address,
        contractFrom: opts.contract === undefined ? 'server' : 'argument',
      };
      const registration = await chain.election(opts.electionId);
      if (registration === null) {
        report.findings.push(
          finding(
            'not-registered',
            `election ${opts.electionId} is not registered on contract ${chain.address} (chain ${chain.chainId})`,
          ),
        );
        return finish();
      }
      report.findings.push(...checkManifestHash(manifest, registration));
      windows =
        shards === 1
          ? await chainWindows(chain, opts.electionId, opts.fromWindow)
          : await intervalWindows(chain, opts.electionId, intervalsServed!, shards, opts.fromWindow, report.findings);
    } finally {
      chain.close();
    }
  }

  const electionDir = join(opts.out, id);
  await writeAtomically(join(electionDir, 'election.json'), `${JSON.stringify(document, null, 2)}\n`);
  if (intervalsServed !== undefined)
    await writeAtomically(
      join(electionDir, 'intervals.json'),
      `${JSON.stringify({ electionId: opts.electionId, intervals: intervalsServed }, null, 2)}\n`,
    );

  const tileCount = (w: WindowToSave): number => tilesOfTree(w.count).length + entryBundlesOfTree(w.count).length;
  let done = 0;
  opts.progress?.start(
    windows.reduce((n, w) => n + tileCount(w), 0),
    'tiles',
  );
  try {
    for (const w of windows) {
      const saved = await saveWindow(opts, source, w, () => opts.progress?.update(++done));
      report.windows.push(saved.window);
      if (saved.finding !== undefined) report.findings.push(saved.finding);
    }
  } finally {
    opts.progress?.stop();
  }
  return finish();
}

/** One shard: the anchored windows from `from` on, read from the chain. */
async function chainWindows(chain: ChainReader, electionId: string, from: number): Promise<WindowToSave[]> {
  const count = await chain.windowCount(electionId);
  if (from >= count) return [];
  return readConcurrently(count - from, (i) => chain.window(electionId, from + i));
}

/**
 * Several shards: the windows named by the records of the intervals on chain, each interval's records (served by
 * GET …/intervals) checked against its root on chain first; an interval whose records do not give it is reported
 * and its windows left out.
 */
async function intervalWindows(
  chain: ChainReader,
  electionId: string,
  served: readonly unknown[],
  shards: number,
  from: number,
  findings: Finding[],
): Promise<WindowToSave[]> {
  const onChain: ChainInterval[] = await chain.intervals(electionId, await chain.intervalCount(electionId));
  const byIndex = new Map<number, ReturnType<typeof servedInterval>>();
  for (const v of served) {
    const interval = servedInterval(v, shards);
    if (interval !== null && !byIndex.has(interval.index)) byIndex.set(interval.index, interval);
  }
  const out: WindowToSave[] = [];
  for (const i of onChain) {
    const records = byIndex.get(i.index)?.records;
    if (records === undefined || records.length !== i.windowCount || toHex(intervalRoot(records)) !== i.root) {
      findings.push(
        finding(
          'interval-mismatch',
          `interval ${i.index}: the server's records ${records === undefined ? 'are missing or malformed' : `give the root ${short(toHex(intervalRoot(records)))}`}, the chain has ${short(i.root)}: its windows are not saved`,
          { interval: i.index },
        ),
      );
      continue;
    }
    for (const r of records)
      if (r.windowIndex >= from)
        out.push({ shard: r.shard, index: r.windowIndex, firstSeq: r.firstSeq, count: r.count, root: r.root });
  }
  return out.sort((a, b) => a.shard! - b.shard! || a.index - b.index);
}

/** Without the chain: every shard's sealed windows from `from` on, as GET …/windows lists them (the server's word). */
async function serverWindows(
  base: string,
  id: string,
  shards: number,
  from: number,
  findings: Finding[],
): Promise<WindowToSave[]> {
  const out: WindowToSave[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const query = shards === 1 ? '' : `shard=${shard}&`;
    const listed = await getAllPages('windows', (f) => `${base}${id}/windows?${query}from=${f}`, from);
    for (const [k, w] of listed.entries()) {
      const ok =
        isPlainObject(w) &&
        [w.index, w.firstSeq, w.count].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) &&
        (w.count as number) > 0 &&
        isHex(w.root, 32);
      if (!ok) {
        findings.push(
          finding(
            'window-range-mismatch',
            `entry ${k} of the server's windows list${shards === 1 ? '' : ` of shard ${shard}`} is not a window`,
            {
              shard: shards === 1 ? undefined : shard,
            },
          ),
        );
        continue;
      }
      const v = w as { index: number; firstSeq: number; count: number; root: string };
      out.push({
        ...(shards === 1 ? {} : { shard }),
        index: v.index,
        firstSeq: v.firstSeq,
        count: v.count,
        root: v.root,
      });
    }
  }
  return out;
}

/**
 * Reads every tile and bundle of the window (from the directory if there, else from the server), checks them as a
 * whole, and writes the downloaded ones once they check.
 */
async function saveWindow(
  opts: TilesSaveOptions,
  source: HttpTileSource,
  w: WindowToSave,
  onTile: () => void,
): Promise<{ window: SavedWindow; finding?: Finding }> {
  const dir = join(opts.out, windowTilesPath(opts.electionId, w.index, w.shard));
  const label = w.shard === undefined ? `window ${w.index}` : `window ${w.index} of shard ${w.shard}`;
  const where = { shard: w.shard, window: w.index };
  const list: Tile[] = [...tilesOfTree(w.count), ...entryBundlesOfTree(w.count)];
  const reader = source.reader(opts.electionId, w.index, w.shard);
  const read = await readConcurrently(list.length, async (k) => {
    const tile = list[k]!;
    const path = formatTilePath(tile);
    let data = await readIfThere(join(dir, path));
    const present = data !== undefined;
    data ??= await reader(tile.level, tile.index, tile.width);
    onTile();
    return { tile, path, data, present };
  });
  const saved: SavedWindow = {
    ...w,
    tiles: list.length,
    downloaded: read.filter((r) => !r.present && r.data !== undefined).length,
    present: read.filter((r) => r.present).length,
    status: 'saved',
  };
  const missing = read.filter((r) => r.data === undefined);
  if (missing.length > 0) {
    saved.status = 'incomplete';
    saved.message =
      `the server does not serve ${counted(missing.length, 'tile')} of ${label} (404 for ` +
      `${source.where(opts.electionId, w.index, w.shard)}/${missing[0]!.path}${missing.length > 1 ? ', …' : ''}): nothing of it written`;
    saved.downloaded = 0;
    return { window: saved };
  }
  const problem = windowProblem(w, read as { tile: Tile; path: string; data: Uint8Array; present: boolean }[]);
  if (problem !== null) {
    saved.status = 'failed';
    saved.downloaded = 0;
    saved.message = problem;
    return { window: saved, finding: finding('window-root-mismatch', `${label}: ${problem}`, where) };
  }
  for (const r of read) if (!r.present) await writeAtomically(join(dir, r.path), r.data!);
  return { window: saved };
}

/**
 * Why the window's tiles are not its tree, or null: the entry bundles give the leaves; their tiles must be the hash
 * tiles read, their root the window's root.
 */
function windowProblem(
  w: WindowToSave,
  read: readonly { tile: Tile; path: string; data: Uint8Array; present: boolean }[],
): string | null {
  const whence = (r: { present: boolean }): string => (r.present ? 'already saved' : 'served');
  const leaves = Buffer.alloc(w.count * 32);
  for (const r of read) {
    if (r.tile.level !== 'entries') continue;
    let entries: Uint8Array[];
    try {
      entries = parseEntryBundle(r.data, r.tile.width);
    } catch (err) {
      if (!(err instanceof TileError)) throw err;
      return `${r.path} (${whence(r)}): ${err.message}`;
    }
    for (const [k, entry] of entries.entries()) {
      if (entry.byteLength !== 32) return `${r.path} (${whence(r)}): entry ${k} is not a 32-byte ballot hash`;
      leaves.set(entry, (r.tile.index * 256 + k) * 32);
    }
  }
  const tree = TreeTiles.fromLeaves(leaves);
  for (const r of read) {
    if (r.tile.level === 'entries') continue;
    if (!bytesEqual(r.data, tree.data(r.tile.level, r.tile.index)!))
      return `${r.path} (${whence(r)}) is not the tile its entry bundles give`;
  }
  const root = toHex(merkleTreeHeadPacked(leaves));
  if (root !== w.root) return `its tiles give the root ${root}, not ${w.root}`;
  return null;
}

async function readIfThere(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes `path` whole or not at all: a temporary file in the same directory, renamed over it. */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new InputError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}
