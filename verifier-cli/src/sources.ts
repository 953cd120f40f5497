// Where the data under audit comes from: the server's public API or files an auditor was handed.
// Both give the same things (manifest, roll, published results, the ledger as NDJSON lines); nothing
// they say is trusted, everything is checked against the chain. The ledger is streamed in blocks of
// whole lines.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { InputError } from './errors.js';
import { isPlainObject } from './protocol.js';
import { parseRollText } from './roll.js';

/** What the server says about an election beside the manifest (GET /api/v1/elections/{id}). */
export interface ElectionClaims {
  manifestHash?: string;
  rollRoot?: string;
  status?: string;
  chainId?: number;
  contract?: string;
}

export interface ElectionData {
  /** The manifest exactly as served (hashed as is). */
  manifest: unknown;
  claims: ElectionClaims;
}

export interface ElectionSource {
  /** For messages: "https://… (API)" or the ledger file's path. */
  readonly description: string;
  election(): Promise<ElectionData>;
  /** The roll's keys as served (unchecked strings). */
  roll(): Promise<string[]>;
  /** Published results, or null when there are none to compare. */
  results(): Promise<unknown | null>;
  /** The ledger's NDJSON, as served, in byte chunks (lines are split by ledgerBlocks and the workers). */
  ledgerChunks(): AsyncIterable<Uint8Array>;
  /** Total ledger bytes when known (file mode), for the progress bar. */
  ledgerBytes(): Promise<number | undefined>;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** A piece of the ledger that ends at a line end (or the stream's end): whole lines, as bytes. */
export interface LedgerBlock {
  bytes: Uint8Array;
  /** Lines in the block (newlines, plus one for a last line without one). */
  lines: number;
}

const NEWLINE = 0x0a;

function countNewlines(bytes: Uint8Array): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

function concatBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total); // a fresh ArrayBuffer of its own: transferable to a worker
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Cuts a byte stream into blocks of whole lines of about `targetBytes` (never splitting a line, however
 * the stream is chunked), so the main thread hands raw bytes to the workers and never decodes or splits
 * lines itself.
 */
export async function* ledgerBlocks(chunks: AsyncIterable<Uint8Array>, targetBytes = 128 * 1024, onBytes?: (bytes: number) => void): AsyncGenerator<LedgerBlock> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    onBytes?.(chunk.byteLength);
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let offset = 0;
    while (offset < buf.length) {
      // The block ends at the first line end once it holds targetBytes.
      const end = buf.indexOf(NEWLINE, offset + Math.max(0, targetBytes - pendingBytes - 1));
      if (end === -1) {
        pending.push(buf.subarray(offset));
        pendingBytes += buf.length - offset;
        break;
      }
      pending.push(buf.subarray(offset, end + 1));
      const bytes = concatBytes(pending, pendingBytes + end + 1 - offset);
      yield { bytes, lines: countNewlines(bytes) };
      pending = [];
      pendingBytes = 0;
      offset = end + 1;
    }
  }
  if (pendingBytes > 0) {
    const bytes = concatBytes(pending, pendingBytes);
    yield { bytes, lines: countNewlines(bytes) + (bytes[bytes.byteLength - 1] === NEWLINE ? 0 : 1) };
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the ${what} file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`the ${what} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The election response's claims, picked defensively. */
function claimsOf(body: Record<string, unknown>): ElectionClaims {
  const claims: ElectionClaims = {};
  if (typeof body.manifestHash === 'string') claims.manifestHash = body.manifestHash;
  if (typeof body.rollRoot === 'string') claims.rollRoot = body.rollRoot;
  if (typeof body.status === 'string') claims.status = body.status;
  if (typeof body.chainId === 'number') claims.chainId = body.chainId;
  if (typeof body.contract === 'string') claims.contract = body.contract;
  return claims;
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** A roll file: a JSON array of hex keys, or one key per line. */
export async function readRollFile(path: string): Promise<string[]> {
  const text = await readText(path, 'roll');
  try {
    return parseRollText(text);
  } catch (err) {
    throw new InputError(`the roll file ${path} is neither a JSON array nor one key per line: ${(err as Error).message}`);
  }
}

/** Longest NDJSON roll line accepted (a key line is 66 characters). */
const MAX_ROLL_LINE = 1024;
const KEY_LINE = /^"[0-9a-f]{64}"$/;

/**
 * A roll as NDJSON — one JSON string (a 32-byte lowercase hex key) per line, what GET …/roll serves —
 * parsed as the bytes arrive: memory holds the keys and one chunk, never the whole text. Blank lines are
 * skipped. A line that is not a JSON string throws an InputError naming the line; a string that is not a
 * valid key is returned as is (the audit reports it as roll-invalid).
 */
export async function parseRollNdjson(chunks: AsyncIterable<Uint8Array>, what = 'the roll'): Promise<string[]> {
  const keys: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let lineNo = 0;
  const take = (raw: string): void => {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // The usual line, "<64 lowercase hex>", without JSON.parse.
    if (KEY_LINE.test(line)) {
      keys.push(line.slice(1, 65));
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '') return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'string') {
      const shown = trimmed.length > 80 ? `${trimmed.slice(0, 77)}...` : trimmed;
      throw new InputError(`${what}: line ${lineNo} is not a JSON string of a hex key: ${JSON.stringify(shown)}`);
    }
    keys.push(value);
  };
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch {
      throw new InputError(`${what} is not valid UTF-8 (after line ${lineNo})`);
    }
  };
  for await (const chunk of chunks) {
    const text = rest + decode(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > MAX_ROLL_LINE) throw new InputError(`${what}: line ${lineNo + 1} is longer than ${MAX_ROLL_LINE} characters`);
  }
  rest += decode();
  if (rest.length > 0) take(rest);
  return keys;
}

export interface FileSourceOptions {
  ledger: string;
  /** The manifest, or a saved GET /api/v1/elections/{id} response holding it under "manifest". */
  manifest: string;
  /** JSON array of hex keys, or one key per line. */
  roll: string;
  /** Published results (GET …/results), optional. */
  results?: string;
}

export class FileSource implements ElectionSource {
  readonly description: string;
  constructor(private readonly files: FileSourceOptions) {
    this.description = files.ledger;
  }

  async election(): Promise<ElectionData> {
    const value = parseJson(await readText(this.files.manifest, 'manifest'), `manifest file ${this.files.manifest}`);
    if (isPlainObject(value) && 'manifest' in value) return { manifest: value.manifest, claims: claimsOf(value) };
    return { manifest: value, claims: {} };
  }

  async roll(): Promise<string[]> {
    return readRollFile(this.files.roll);
  }

  async results(): Promise<unknown | null> {
    if (this.files.results === undefined) return null;
    return parseJson(await readText(this.files.results, 'results'), `results file ${this.files.results}`);
  }

  async *ledgerChunks(): AsyncIterable<Uint8Array> {
    const stream = createReadStream(this.files.ledger, { highWaterMark: 1 << 20 });
    try {
      yield* stream as AsyncIterable<Buffer>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== undefined) throw new InputError(`cannot read the ledger file ${this.files.ledger}: ${(err as Error).message}`, { cause: err });
      throw err;
    } finally {
      stream.destroy();
    }
  }

  async ledgerBytes(): Promise<number | undefined> {
    try {
      return (await stat(this.files.ledger)).size;
    } catch (err) {
      throw new InputError(`cannot read the ledger file ${this.files.ledger}: ${(err as Error).message}`, { cause: err });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The public API
// ---------------------------------------------------------------------------------------------

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

async function request(url: string, accept = 'application/json'): Promise<Response> {
  try {
    return await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    throw new InputError(`GET ${url} failed: ${(err as Error).message}`, { cause: err });
  }
}

function errorMessage(text: string): string {
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

export class ApiSource implements ElectionSource {
  readonly description: string;
  private readonly base: string;

  /** `rollFile` (--roll FILE) replaces the download of GET …/roll, e.g. a roll the election authority published. */
  constructor(api: string, private readonly electionId: string, private readonly rollFile?: string) {
    this.base = `${apiBase(api)}/api/v1/elections/${encodeURIComponent(electionId)}`;
    this.description = `${apiBase(api)} (API)`;
  }

  async election(): Promise<ElectionData> {
    const body = await getJson(this.base);
    if (!isPlainObject(body) || !('manifest' in body)) throw new InputError(`GET ${this.base} did not return {"manifest",…}`);
    return { manifest: body.manifest, claims: claimsOf(body) };
  }

  /**
   * GET …/roll: NDJSON (one JSON string per line, what a Tallyproof server sends), parsed as it streams;
   * a JSON array when the server answers application/json. `--roll FILE` replaces the download.
   */
  async roll(): Promise<string[]> {
    if (this.rollFile !== undefined) return readRollFile(this.rollFile);
    const url = `${this.base}/roll`;
    // The download of a large roll takes a while: the timeout is for silence (no header, then no byte
    // for REQUEST_TIMEOUT_MS), not for the whole transfer.
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error(`nothing received for ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
    };
    arm();
    try {
      let res: Response;
      try {
        res = await fetch(url, { headers: { accept: 'application/x-ndjson, application/json;q=0.5' }, signal: controller.signal });
      } catch (err) {
        throw new InputError(`GET ${url} failed: ${(err as Error).message}`, { cause: err });
      }
      if (res.status === 404) {
        const text = await res.text().catch(() => '');
        throw new InputError(`GET ${url} answered 404 (${errorMessage(text)}): the server offers no roll for this election; pass the roll with --roll FILE`);
      }
      if (!res.ok || res.body === null) {
        const text = await res.text().catch(() => '');
        throw new InputError(`GET ${url} answered ${res.status}: ${errorMessage(text)}`);
      }
      const chunks = (async function* (body: AsyncIterable<Uint8Array>) {
        for await (const chunk of body) {
          arm();
          yield chunk;
        }
      })(res.body as unknown as AsyncIterable<Uint8Array>);
      let keys: string[];
      try {
        if (/^application\/json\b/i.test(res.headers.get('content-type') ?? '')) {
          let text = '';
          const decoder = new TextDecoder();
          for await (const chunk of chunks) text += decoder.decode(chunk, { stream: true });
          text += decoder.decode();
          try {
            keys = parseRollText(text);
          } catch (err) {
            throw new InputError(`GET ${url} returned neither a JSON array of keys nor one key per line: ${(err as Error).message}`);
          }
        } else {
          keys = await parseRollNdjson(chunks, `the roll from GET ${url}`);
        }
      } catch (err) {
        if (err instanceof InputError) throw err;
        throw new InputError(`the roll stream from ${url} broke off: ${(err as Error).message}`, { cause: err });
      }
      // A transfer cut short normally breaks the chunked stream (above); the announced size catches the rest.
      const announced = res.headers.get('x-roll-size');
      if (announced !== null && /^\d+$/.test(announced) && Number(announced) !== keys.length) {
        throw new InputError(`GET ${url} sent ${keys.length} keys but announced X-Roll-Size ${announced}: the download is incomplete or inconsistent; try again, or pass the roll with --roll FILE`);
      }
      return keys;
    } finally {
      clearTimeout(timer);
      controller.abort(); // a download given up half-way frees its connection (a no-op once it is read)
    }
  }

  async results(): Promise<unknown | null> {
    return getJson(`${this.base}/results`, true);
  }

  async *ledgerChunks(): AsyncIterable<Uint8Array> {
    const url = `${this.base}/ledger?from=0`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/x-ndjson' } });
    } catch (err) {
      throw new InputError(`GET ${url} failed: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok || res.body === null) throw new InputError(`GET ${url} answered ${res.status}: ${errorMessage(await res.text())}`);
    try {
      yield* res.body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      throw new InputError(`the ledger stream from ${url} broke off: ${(err as Error).message}`, { cause: err });
    }
  }

  async ledgerBytes(): Promise<number | undefined> {
    return undefined;
  }
}
