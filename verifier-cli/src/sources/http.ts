// GET requests to the server's public API, shared by the API source and the `receipt` command: a
// timeout, JSON answers, and the server's error body turned into a message.
import { InputError } from '../errors.js';
import { isPlainObject } from '../protocol.js';
import { parseJson } from './source.js';

/** How long a request may stay silent before it fails. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** GET `url` and parse JSON; null on 404 when `allow404`; InputError otherwise. */
export async function getJson(url: string, allow404 = false): Promise<unknown> {
  const res = await request(url);
  if (res.status === 404 && allow404) {
    await res.body?.cancel();
    return null;
  }
  const text = await res.text();
  if (!res.ok) throw new InputError(`GET ${url} answered ${res.status}: ${errorMessage(text)}`);
  return parseJson(text, `answer of GET ${url}`);
}

/**
 * GET `url` and parse JSON; null when the server answers one of `nullStatuses` (a document that does not
 * exist yet, e.g. an encrypted election's aggregate before the close: 409 not-closed); InputError otherwise.
 */
export async function getJsonOrNull(url: string, nullStatuses: readonly number[]): Promise<unknown | null> {
  const res = await request(url);
  if (nullStatuses.includes(res.status)) {
    await res.body?.cancel();
    return null;
  }
  const text = await res.text();
  if (!res.ok) throw new InputError(`GET ${url} answered ${res.status}: ${errorMessage(text)}`);
  return parseJson(text, `answer of GET ${url}`);
}

async function request(url: string, accept = 'application/json'): Promise<Response> {
  try {
    return await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    throw new InputError(`GET ${url} failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Every item of a list the API pages with `next` (the `from` of the next page), from page `start` on:
 * `{"<key>":[…],"next"?}` at `url(from)`.
 */
export async function getAllPages(key: string, url: (from: number) => string, start = 0): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let from = start; ; ) {
    const body = await getJson(url(from));
    if (!isPlainObject(body) || !Array.isArray(body[key]))
      throw new InputError(`GET ${url(from)} did not return {"${key}":[…]}`);
    out.push(...body[key]);
    const next = body.next;
    if (next === undefined) return out;
    // A `next` that does not move forward would loop for ever.
    if (typeof next !== 'number' || !Number.isSafeInteger(next) || next <= from)
      throw new InputError(`GET ${url(from)} gives next = ${JSON.stringify(next)}, not a page after ${from}`);
    from = next;
  }
}

/** The server's `{"error":{code,message}}` as "code: message", or the start of a body that is not one. */
export function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message !== undefined) return `${body.error.code ?? 'error'}: ${body.error.message}`;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

/** Base URL without a trailing slash. */
export function apiBase(url: string): string {
  try {
    return new URL(url).toString().replace(/\/+$/, '');
  } catch {
    throw new InputError(`--api ${url} is not a URL`);
  }
}
