// Credential files: the public roll (one 32-byte hex key per line, or a JSON array) and the private
// credentials file (JSON lines {"credential":HEX32,"seed":HEX32}, one per voter). Generation streams to
// disk so a million credentials need bounded memory.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { deriveCredential } from '../../ledger/src/protocol/protocol.js';

export interface Progress {
  start(total: number): void;
  increment(n?: number): void;
  stop(): void;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

/** Random credentials (a credential authority, Belenios-style). */
export async function generateCredentials(opts: {
  count: number;
  rollFile: string;
  credentialsFile: string;
  progress: Progress;
}): Promise<void> {
  const roll = createWriteStream(opts.rollFile, { flags: 'wx' });
  const creds = createWriteStream(opts.credentialsFile, { flags: 'wx', mode: 0o600 });
  opts.progress.start(opts.count);
  for (let i = 0; i < opts.count; i++) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const credential = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
    const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('hex');
    await write(roll, credential + '\n');
    await write(creds, JSON.stringify({ credential, seed }) + '\n');
    if (i % 1000 === 999) opts.progress.increment(1000);
  }
  opts.progress.increment(opts.count % 1000);
  opts.progress.stop();
  await Promise.all([close(roll), close(creds)]);
}

/** Credentials derived from voter secrets (one secret per line), scrypt on libuv's thread pool. */
export async function deriveCredentials(opts: {
  secretsFile: string;
  electionId: string;
  rollFile: string;
  credentialsFile: string;
  progress: Progress;
  total: number;
}): Promise<number> {
  const roll = createWriteStream(opts.rollFile, { flags: 'wx' });
  const creds = createWriteStream(opts.credentialsFile, { flags: 'wx', mode: 0o600 });
  opts.progress.start(opts.total);
  const lines = createInterface({ input: createReadStream(opts.secretsFile, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let batch: string[] = [];
  const flush = async () => {
    // A few derivations at once keep both cores busy (scrypt runs on libuv's pool) in bounded memory.
    const derived = await Promise.all(batch.map((s) => deriveCredential(s, opts.electionId)));
    for (const d of derived) {
      const credential = d.publicKey.toString('hex');
      await write(roll, credential + '\n');
      await write(creds, JSON.stringify({ credential, seed: d.seed.toString('hex') }) + '\n');
    }
    opts.progress.increment(batch.length);
    n += batch.length;
    batch = [];
  };
  for await (const line of lines) {
    if (line.trim() === '') continue;
    batch.push(line.replace(/\r$/, ''));
    if (batch.length === 8) await flush();
  }
  await flush();
  opts.progress.stop();
  await Promise.all([close(roll), close(creds)]);
  return n;
}

/** Read a roll file: a JSON array of hex keys, or one key per line. */
export async function* readRoll(file: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let first = true;
  for await (const raw of lines) {
    const line = raw.trim();
    if (first && line.startsWith('[')) {
      // A JSON array: small enough files only; read the whole thing.
      lines.close();
      const { readFile } = await import('node:fs/promises');
      for (const k of JSON.parse(await readFile(file, 'utf8')) as string[]) yield k;
      return;
    }
    first = false;
    if (line !== '') yield line;
  }
}

/** Find one voter's credential in a credentials file (by credential, or the first line). */
export async function readCredential(file: string, credential?: string): Promise<{ credential: string; seed: string }> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const c = JSON.parse(line) as { credential: string; seed: string };
    if (credential === undefined || c.credential === credential) {
      lines.close();
      return c;
    }
  }
  throw new Error(credential ? `credential ${credential} is not in ${file}` : `${file} holds no credential`);
}
