// Where a window's tiles (C2SP tlog-tiles, ../tiles.ts) come from: a directory (an observer's copy, written by
// `tiles save`) or an http(s) base — the server's `<api>/api/v1/elections/`, or any static mirror of that path
// tree (a CDN). Both are laid out alike under the base:
//   <electionId>/windows/<w>/tile/<L>/<N>[.p/<W>], …/tile/entries/<N>[.p/<W>]      an election of one shard
//   <electionId>/shards/<s>/windows/<w>/tile/…                                      an election of several
// and, beside them, what `tiles save` keeps so that a receipt can be checked without the API:
// `<electionId>/election.json` (the GET …/elections/{id} answer) and `<electionId>/intervals.json` (an election
// of several shards: GET …/intervals, every page). Over HTTP, where a mirror has no such file, the API's own
// routes at the same place are asked (…/elections/{id}, …/{id}/intervals?from=&limit=).
// Nothing read here is trusted: tiles are checked against the roots on chain, documents against the chain's
// manifest hash and interval roots, by whoever reads them. A tile that is not there is `undefined`; over HTTP
// a request is retried (with backoff) on a network error, a timeout, 429 or 5xx, and 404 means not there.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { formatTilePath, TileError, type TileReader } from '../tiles.js';
import { errorMessage, getAllPages, getJson } from './http.js';
import { INTERVALS_PAGE } from './api.js';
import { listItems, parseJson } from './source.js';

/** A tile's path under the base: `<electionId>/windows/<w>`, or `<electionId>/shards/<s>/windows/<w>` (sharded). */
export function windowTilesPath(electionId: string, window: number, shard?: number): string {
  const id = encodeURIComponent(electionId);
  return shard === undefined ? `${id}/windows/${window}` : `${id}/shards/${shard}/windows/${window}`;
}

export interface TileSource {
  /** The directory or the base URL, for messages. */
  readonly description: string;
  readonly kind: 'directory' | 'http';
  /** Where window `window` (of `shard`, in an election of several shards) is, for messages. */
  where(electionId: string, window: number, shard?: number): string;
  /** A reader of that window's tiles and entry bundles (`undefined`: not there). */
  reader(electionId: string, window: number, shard?: number): TileReader;
  /** The election document (the manifest under "manifest", the contract…), or null when there is none. */
  election(electionId: string): Promise<unknown | null>;
  /** An election of several shards: its anchor intervals with their records, or null when there are none. */
  intervals(electionId: string): Promise<unknown[] | null>;
}

export interface HttpTileOptions {
  /** How long one request may take (default 30 s). */
  timeoutMs?: number;
  /** Attempts per tile before giving up (default 4). */
  attempts?: number;
  /** The delay before the first retry, doubled each time (default 500 ms). */
  retryDelayMs?: number;
}

/** `--tiles`: an http(s) URL is a base of the served tree, anything else a directory. */
export function openTileSource(spec: string, options: HttpTileOptions = {}): TileSource {
  if (/^https?:\/\//i.test(spec)) return new HttpTileSource(spec, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec))
    throw new InputError(`--tiles ${spec}: only http(s) URLs and directories are tile sources`);
  return new DirectoryTileSource(spec);
}

/** Tiles saved in a directory, as `tiles save` writes them. A file that is not there is a tile that is not. */
export class DirectoryTileSource implements TileSource {
  readonly kind = 'directory';
  constructor(readonly description: string) {}

  where(electionId: string, window: number, shard?: number): string {
    return join(this.description, windowTilesPath(electionId, window, shard));
  }

  reader(electionId: string, window: number, shard?: number): TileReader {
    const base = this.where(electionId, window, shard);
    return async (level, index, width) => {
      const path = formatTilePath({ level, index, width });
      try {
        return await readFile(join(base, path));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
        throw new TileError(`cannot read ${path}: ${(err as Error).message}`);
      }
    };
  }

  async election(electionId: string): Promise<unknown | null> {
    return this.document(electionId, 'election.json');
  }

  async intervals(electionId: string): Promise<unknown[] | null> {
    const value = await this.document(electionId, 'intervals.json');
    return value === null ? null : listItems(value, 'intervals', `saved intervals in ${this.description}`);
  }

  private async document(electionId: string, name: string): Promise<unknown | null> {
    const path = join(this.description, encodeURIComponent(electionId), name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new InputError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    return parseJson(text, `file ${path}`);
  }
}

/**
 * The largest body read for one tile: a full entry bundle of 32-byte entries is 256 × 34 bytes. A longer one
 * is cut just past this, so that the tile's reader refuses it for its length without reading it all.
 */
const MAX_TILE_BYTES = 64 * 1024;

/** Tiles over HTTP under a base URL (…/api/v1/elections/, or a mirror of it). */
export class HttpTileSource implements TileSource {
  readonly kind = 'http';
  readonly description: string;
  /** Requests made, including retries (for tests and the save report). */
  requests = 0;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(base: string, options: HttpTileOptions = {}) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new InputError(`--tiles ${base} is not a URL`);
    }
    if (url.search !== '' || url.hash !== '') throw new InputError(`--tiles ${base}: a base URL has no query`);
    this.description = url.toString().replace(/\/*$/, '/');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  where(electionId: string, window: number, shard?: number): string {
    return `${this.description}${windowTilesPath(electionId, window, shard)}`;
  }

  reader(electionId: string, window: number, shard?: number): TileReader {
    const base = this.where(electionId, window, shard);
    return (level, index, width) => this.getBytes(`${base}/${formatTilePath({ level, index, width })}`);
  }

  /** `<base><id>/election.json` (a mirror of a saved directory), else `<base><id>` (the API's route). */
  async election(electionId: string): Promise<unknown | null> {
    const root = `${this.description}${encodeURIComponent(electionId)}`;
    return (await getJson(`${root}/election.json`, true)) ?? getJson(root, true);
  }

  /** `<base><id>/intervals.json`, else every page of `<base><id>/intervals` (the API's route). */
  async intervals(electionId: string): Promise<unknown[] | null> {
    const root = `${this.description}${encodeURIComponent(electionId)}`;
    const saved = await getJson(`${root}/intervals.json`, true);
    if (saved !== null) return listItems(saved, 'intervals', `${root}/intervals.json`);
    const page = (from: number): string => `${root}/intervals?from=${from}&limit=${INTERVALS_PAGE}`;
    if ((await getJson(page(0), true)) === null) return null;
    return getAllPages('intervals', page);
  }

  /**
   * GET `url` as bytes: undefined on 404; retried on a network error, a timeout, 429 (after its Retry-After, at most
   * 2 min) and 5xx; any other answer, or the last failure, is an InputError.
   */
  async getBytes(url: string): Promise<Uint8Array | undefined> {
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      /** A 429's Retry-After (the server's rate limit, e.g. while saving a large window's tiles), ms. */
      let retryAfterMs = 0;
      try {
        this.requests++;
        const res = await fetch(url, {
          headers: { accept: 'application/octet-stream' },
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (res.status === 200) return await readCapped(res);
        const text = await res.text().catch(() => '');
        if (res.status === 404) return undefined;
        failure = `answered ${res.status}: ${errorMessage(text)}`;
        if (res.status === 429) retryAfterMs = Math.min(120, Number(res.headers.get('retry-after')) || 0) * 1000;
        if (res.status < 500 && res.status !== 429) throw new InputError(`GET ${url} ${failure}`);
      } catch (err) {
        if (err instanceof InputError) throw err;
        failure = `failed: ${(err as Error).message}`;
      }
      if (attempt >= this.attempts) throw new InputError(`GET ${url} ${failure} (after ${attempt} attempts)`);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(retryAfterMs, this.retryDelayMs * 2 ** (attempt - 1))),
      );
    }
  }
}

/** The body, read up to MAX_TILE_BYTES + 1 bytes (a longer one is then refused for its length). */
async function readCapped(res: Response): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
      if (total > MAX_TILE_BYTES) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks, total).subarray(0, MAX_TILE_BYTES + 1);
}
