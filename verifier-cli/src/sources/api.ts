// The API source: the server's public API (GET /api/v1/elections/{id} and its …/roll, …/results and
// …/ledger; for an election of several shards …/intervals and …/windows?shard=s), every answer checked,
// nothing trusted.
import { InputError } from '../errors.js';
import { isPlainObject } from '../protocol.js';
import { downloadRoll } from './api-roll.js';
import { readRollFile } from './files.js';
import { apiBase, errorMessage, getAllPages, getJson, getJsonOrNull } from './http.js';
import { claimsOf, type ElectionData, type ElectionSource } from './source.js';

/** Intervals per page of GET …/intervals (its maximum). */
export const INTERVALS_PAGE = 100;

export class ApiSource implements ElectionSource {
  readonly description: string;
  private readonly base: string;

  /** `rollFile` (--roll FILE) replaces the download of GET …/roll, e.g. a roll the election authority published. */
  constructor(
    api: string,
    electionId: string,
    private readonly rollFile?: string,
  ) {
    this.base = `${apiBase(api)}/api/v1/elections/${encodeURIComponent(electionId)}`;
    this.description = `${apiBase(api)} (API)`;
  }

  async election(): Promise<ElectionData> {
    const body = await getJson(this.base);
    if (!isPlainObject(body) || !Object.hasOwn(body, 'manifest')) {
      throw new InputError(`GET ${this.base} did not return {"manifest",…}`);
    }
    return { manifest: body.manifest, claims: claimsOf(body) };
  }

  /**
   * GET …/roll: NDJSON (one JSON string per line, what a Tallyproof server sends), parsed as it streams;
   * a JSON array when the server answers application/json. `--roll FILE` replaces the download.
   */
  async roll(): Promise<string[]> {
    if (this.rollFile !== undefined) return readRollFile(this.rollFile);
    return downloadRoll(`${this.base}/roll`);
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
    if (!res.ok || res.body === null) {
      throw new InputError(`GET ${url} answered ${res.status}: ${errorMessage(await res.text())}`);
    }
    try {
      yield* res.body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      throw new InputError(`the ledger stream from ${url} broke off: ${(err as Error).message}`, { cause: err });
    }
  }

  async ledgerBytes(): Promise<number | undefined> {
    return undefined;
  }

  async trusteeMessages(): Promise<unknown | null> {
    return getJson(`${this.base}/trustee-messages`, true);
  }

  /** Null before the close (409 not-closed). */
  async aggregate(): Promise<unknown | null> {
    return getJsonOrNull(`${this.base}/aggregate`, [404, 409]);
  }

  /** Null until the trustees have decrypted (409 not-decrypted). */
  async decryption(): Promise<unknown | null> {
    return getJsonOrNull(`${this.base}/decryption`, [404, 409]);
  }

  /** GET …/intervals?from=&limit=100, page after page. */
  async intervals(): Promise<unknown[]> {
    return getAllPages('intervals', (from) => `${this.base}/intervals?from=${from}&limit=${INTERVALS_PAGE}`);
  }

  /** GET …/windows?shard=s&from=, page after page. */
  async shardWindows(shard: number): Promise<unknown[]> {
    return getAllPages('windows', (from) => `${this.base}/windows?shard=${shard}&from=${from}`);
  }
}
