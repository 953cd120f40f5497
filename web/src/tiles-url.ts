// Where "Check my receipt" reads the windows' tiles (src/tiles.ts): this origin's API by default, or a CDN or
// mirror serving the same paths (`{base}{electionId}/windows/{w}/tile/…`). Like the RPC URL (rpc-url.ts), a base
// the voter types is kept in localStorage; `?tiles=URL` in the page's address applies to that visit only, so a
// link cannot change what the voter chose. Tiles are checked against the root on chain, so a bad base can make
// the check fail or fall back to the server's proof, never pass a ballot that is not there. A CDN on another
// origin must answer with `Access-Control-Allow-Origin` (the pages' CSP allows any https: origin).
import { DEFAULT_TILES_PATH } from './tiles.js';

export const TILES_STORAGE = 'tallyproof.tilesUrl';
export const TILES_PARAM = 'tiles';

/** `text` as an absolute http(s) URL ending in `/` (relative to `origin`), or null when it is none. */
export function tilesBaseOf(text: string | null | undefined, origin: string): string | null {
  const trimmed = text?.trim();
  if (!trimmed) return null;
  let url: URL;
  try {
    url = new URL(trimmed, origin);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.search = '';
  url.hash = '';
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** The first usable of: the field (or `?tiles=`), the saved base, this origin's API. Pure, for tests. */
export function chooseTilesBase(typed: string | null, saved: string | null, origin: string): string {
  return tilesBaseOf(typed, origin) ?? tilesBaseOf(saved, origin) ?? tilesBaseOf(DEFAULT_TILES_PATH, origin)!;
}

/** The base the voter saved ('' when none, or storage is blocked). */
export function savedTilesBase(): string {
  try {
    return localStorage.getItem(TILES_STORAGE)?.trim() ?? '';
  } catch {
    return '';
  }
}

/** Keep the base the voter typed; an empty one forgets it. */
export function saveTilesBase(url: string): void {
  try {
    if (url.trim() === '') localStorage.removeItem(TILES_STORAGE);
    else localStorage.setItem(TILES_STORAGE, url.trim());
  } catch {
    // not kept
  }
}
