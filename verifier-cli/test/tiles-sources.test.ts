// Tile sources (src/sources/tiles.ts): a directory and an http(s) base over a real static server on 127.0.0.1 —
// the layout of one shard and of several, 404 as "not there", retries on 503 and on a dropped connection, no retry
// on another 4xx, an oversized body cut and refused by the tree's length check; and merkle.ts's inclusionPath
// against the recursive RFC 6962 reference of the test support.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { inclusionPath, merkleTreeHeadPacked, rootFromInclusionProof } from '../src/merkle.js';
import { DirectoryTileSource, HttpTileSource, openTileSource } from '../src/sources/tiles.js';
import { TiledTree, TileError } from '../src/tiles.js';
import { auditPath } from './support/election.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import { windowDir, writeWindowTiles } from './support/tiles.js';

const E = 'tiles-sources';
let dir: string;
let server: StaticServer;
/** Window 0 of 300 leaves (a full level-0 tile, a partial one, a level-1 tile); window 1 of shard 2, 5 leaves. */
const leaves = (n: number, label: string): string[] =>
  Array.from({ length: n }, (_, i) => Buffer.from(`${label} ${i}`.padEnd(32, '.')).toString('hex'));
const W0 = leaves(300, 'w0');
const S2W1 = leaves(5, 's2w1');
const root = (hashes: string[]): Buffer => Buffer.from(merkleTreeHeadPacked(Buffer.from(hashes.join(''), 'hex')));
const quick = { retryDelayMs: 1, attempts: 3 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-tile-sources-'));
  writeWindowTiles(dir, E, 0, W0);
  writeWindowTiles(dir, E, 1, S2W1, 2);
  writeFileSync(join(dir, E, 'election.json'), JSON.stringify({ manifest: { electionId: E } }));
  server = await startStaticServer(dir);
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('openTileSource', () => {
  it('takes an http(s) URL as a base and anything else as a directory; refuses other schemes', () => {
    expect(openTileSource(server.base)).toBeInstanceOf(HttpTileSource);
    expect(openTileSource('HTTPS://cdn.example.org/e').description).toBe('https://cdn.example.org/e/');
    expect(openTileSource(dir)).toBeInstanceOf(DirectoryTileSource);
    expect(() => openTileSource('ftp://example.org/tiles')).toThrow(InputError);
    expect(() => openTileSource('https://cdn.example.org/e?x=1')).toThrow(InputError);
  });
});

describe.each([
  ['a directory', () => openTileSource(dir)],
  ['an http base', () => openTileSource(server.base, quick)],
])('%s', (_, open) => {
  it("gives a window's tree head and proofs, with one shard's layout and several's", async () => {
    const source = open();
    const tree = new TiledTree(W0.length, source.reader(E, 0));
    expect(Buffer.from(await tree.treeHead())).toEqual(root(W0));
    const proof = await tree.inclusionProof(123);
    expect(Buffer.from(rootFromInclusionProof(Buffer.from(W0[123]!, 'hex'), proof))).toEqual(root(W0));
    const sharded = new TiledTree(S2W1.length, source.reader(E, 1, 2));
    expect(Buffer.from(await sharded.treeHead())).toEqual(root(S2W1));
    expect(source.where(E, 1, 2)).toContain(`${E}/shards/2/windows/1`);
  });

  it('says "not there" for a tile it does not have, and reads the saved election document', async () => {
    const source = open();
    expect(await source.reader(E, 7)(0, 0, 5)).toBeUndefined();
    expect(await source.reader(E, 0)(0, 1, 45)).toBeUndefined(); // the tree has 0/001.p/44, not .p/45
    await expect(new TiledTree(10, source.reader(E, 7)).treeHead()).rejects.toThrow(TileError);
    expect(await source.election(E)).toEqual({ manifest: { electionId: E } });
    expect(await source.election('other')).toBeNull();
    expect(await source.intervals(E)).toBeNull();
  });
});

describe('an http base', () => {
  it('retries 503 and a dropped connection, then reads the tile', async () => {
    const source = new HttpTileSource(server.base, quick);
    server.failures.push('503', 'drop');
    const before = server.requests.length;
    const tile = await source.reader(E, 1, 2)(0, 0, 5);
    expect(tile?.byteLength).toBe(5 * 32);
    expect(server.requests.length - before).toBe(3);
  });

  it('waits for the Retry-After of a 429 (a rate limit) before asking again', async () => {
    const source = new HttpTileSource(server.base, quick);
    server.failures.push('429');
    const before = server.requests.length;
    const started = Date.now();
    const tile = await source.reader(E, 1, 2)(0, 0, 5);
    expect(tile?.byteLength).toBe(5 * 32);
    expect(server.requests.length - before).toBe(2);
    // Retry-After: 1 — not the quick backoff of the other retries.
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('gives up after its attempts, naming the URL and the last failure', async () => {
    const source = new HttpTileSource(server.base, quick);
    server.failures.push('503', '503', '503');
    await expect(source.reader(E, 0)(1, 0, 1)).rejects.toThrow(
      /tile\/1\/000\.p\/1 answered 503: busy \(after 3 attempts\)/,
    );
  });

  it('does not retry a 4xx other than 404 and 429; a server that refuses connections is retried', async () => {
    const source = new HttpTileSource(server.base, quick);
    server.failures.push('403');
    const before = server.requests.length;
    await expect(source.reader(E, 0)(0, 0, 256)).rejects.toThrow(/answered 403: forbidden$/);
    expect(server.requests.length - before).toBe(1);
    const nothing = new HttpTileSource('http://127.0.0.1:9/', quick); // the discard port: refused
    await expect(nothing.reader(E, 0)(0, 0, 256)).rejects.toThrow(/failed: .*\(after 3 attempts\)/);
  });

  it('cuts a body far longer than any tile, which the tree then refuses for its length', async () => {
    const file = join(windowDir(dir, E, 9), 'tile', '0', '000.p', '1');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.alloc(1 << 20, 7));
    const source = new HttpTileSource(server.base, quick);
    const read = await source.reader(E, 9)(0, 0, 1);
    expect(read!.byteLength).toBe(64 * 1024 + 1);
    await expect(new TiledTree(1, source.reader(E, 9)).treeHead()).rejects.toThrow(/is not 32 bytes long/);
  });
});

describe("inclusionPath (RFC 6962 PATH, for an interval's records)", () => {
  it('is the recursive reference path for every leaf of trees of 1..40 leaves of 60 bytes', () => {
    for (let n = 1; n <= 40; n++) {
      const data = Array.from({ length: n }, (_, i) => Buffer.alloc(60, i + 1));
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(data, m);
        expect(path.map((p) => Buffer.from(p).toString('hex'))).toEqual(
          auditPath(data, m).map((p) => p.toString('hex')),
        );
      }
    }
    expect(() => inclusionPath([Buffer.alloc(1)], 1)).toThrow(RangeError);
  });
});
