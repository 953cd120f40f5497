// Writes the tiles of a window as a saved directory holds them (and as the server serves them):
// <root>/<electionId>/windows/<w>/tile/…, or <root>/<electionId>/shards/<s>/windows/<w>/tile/… with a shard.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TreeTiles } from '../../src/tiles.js';

/** The window's directory under `root`. */
export function windowDir(root: string, electionId: string, window: number, shard?: number): string {
  return shard === undefined
    ? join(root, electionId, 'windows', String(window))
    : join(root, electionId, 'shards', String(shard), 'windows', String(window));
}

/** Writes every hash tile and entry bundle of the window whose leaves are `ballotHashes` (hex, in seq order). */
export function writeWindowTiles(
  root: string,
  electionId: string,
  window: number,
  ballotHashes: readonly string[],
  shard?: number,
): void {
  const leaves = Buffer.from(ballotHashes.join(''), 'hex');
  for (const { path, data } of TreeTiles.fromLeaves(leaves).tiles()) {
    const file = join(windowDir(root, electionId, window, shard), path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  }
}
