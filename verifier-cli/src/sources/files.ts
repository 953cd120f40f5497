// The file source: files an auditor was handed (the ledger as NDJSON, the manifest, the roll, the
// published results; for an election of several shards, the anchor intervals and the shards' windows). The
// ledger file is streamed, never read whole.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { isPlainObject } from '../protocol.js';
import { parseRollText } from '../roll.js';
import { claimsOf, listItems, parseJson, readText, type ElectionData, type ElectionSource } from './source.js';

/** A roll file: a JSON array of hex keys, or one key per line. */
export async function readRollFile(path: string): Promise<string[]> {
  const text = await readText(path, 'roll');
  try {
    return parseRollText(text);
  } catch (err) {
    throw new InputError(
      `the roll file ${path} is neither a JSON array nor one key per line: ${(err as Error).message}`,
    );
  }
}

export interface FileSourceOptions {
  ledger: string;
  /** The manifest, or a saved GET /api/v1/elections/{id} response holding it under "manifest". */
  manifest: string;
  /** JSON array of hex keys, or one key per line. */
  roll: string;
  /** Published results (GET …/results), optional. */
  results?: string;
  /** An encrypted election: the transcript (GET …/trustee-messages), the aggregate and the decryption. */
  trusteeMessages?: string;
  aggregate?: string;
  decryption?: string;
  /** An election of several shards: the anchor intervals with their records (GET …/intervals pages). */
  intervals?: string;
  /** An election of several shards: every shard's windows (GET …/windows?shard=s pages), optional. */
  windows?: string;
}

export class FileSource implements ElectionSource {
  readonly description: string;
  constructor(private readonly files: FileSourceOptions) {
    this.description = files.ledger;
  }

  async election(): Promise<ElectionData> {
    const path = this.files.manifest;
    const value = parseJson(await readText(path, 'manifest'), `manifest file ${path}`);
    if (isPlainObject(value) && Object.hasOwn(value, 'manifest'))
      return { manifest: value.manifest, claims: claimsOf(value) };
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
      if ((err as NodeJS.ErrnoException).code !== undefined) throw this.unreadableLedger(err);
      throw err;
    } finally {
      stream.destroy();
    }
  }

  async trusteeMessages(): Promise<unknown | null> {
    return this.optionalJson(this.files.trusteeMessages, 'trustee messages');
  }

  async aggregate(): Promise<unknown | null> {
    return this.optionalJson(this.files.aggregate, 'aggregate');
  }

  async decryption(): Promise<unknown | null> {
    return this.optionalJson(this.files.decryption, 'decryption');
  }

  async intervals(): Promise<unknown[] | null> {
    const value = await this.optionalJson(this.files.intervals, 'intervals');
    return value === null ? null : listItems(value, 'intervals', `intervals file ${this.files.intervals}`);
  }

  private allWindows: Promise<unknown[] | null> | undefined;

  /** The windows file's windows of `shard` (each names its shard). */
  async shardWindows(shard: number): Promise<unknown[] | null> {
    this.allWindows ??= this.optionalJson(this.files.windows, 'windows').then((value) =>
      value === null ? null : listItems(value, 'windows', `windows file ${this.files.windows}`),
    );
    const all = await this.allWindows;
    return all === null ? null : all.filter((w) => isPlainObject(w) && w.shard === shard);
  }

  private async optionalJson(path: string | undefined, what: string): Promise<unknown | null> {
    if (path === undefined) return null;
    return parseJson(await readText(path, what), `${what} file ${path}`);
  }

  async ledgerBytes(): Promise<number | undefined> {
    try {
      return (await stat(this.files.ledger)).size;
    } catch (err) {
      throw this.unreadableLedger(err);
    }
  }

  private unreadableLedger(err: unknown): InputError {
    const message = `cannot read the ledger file ${this.files.ledger}: ${(err as Error).message}`;
    return new InputError(message, { cause: err });
  }
}
