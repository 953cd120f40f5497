// The body of PUT …/roll as roll chunks for the ledger's appendRollChunks: NDJSON, one JSON string of
// 32-byte lowercase hex per line, read without holding more than one line and one chunk of the stream.
import type { Readable } from 'node:stream';
import { ProtocolError, isHex, type RollChunk } from '../../../ledger/src/index.js';

/** Keys per chunk handed to the ledger (one validation batch, one INSERT). */
const CHUNK = 10_000;

/** Split a byte stream into lines. */
async function* lines(stream: Readable): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + (chunk as Buffer).toString('utf8');
    const parts = text.split('\n');
    rest = parts.pop()!;
    if (rest.length > 1024) throw new ProtocolError('invalid-roll', 'a roll line is longer than 1024 characters');
    yield* parts;
  }
  if (rest.length > 0) yield rest;
}

/** The keys of an NDJSON upload in chunks; a malformed line ends it with invalid-roll naming the line. */
export async function* rollChunks(body: Readable): AsyncGenerator<RollChunk> {
  let lineNo = 0;
  let keys: Buffer[] = [];
  let firstLine = 1;
  for await (const raw of lines(body)) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    let key: unknown;
    try {
      key = JSON.parse(line);
    } catch {
      throw new ProtocolError('invalid-roll', `line ${lineNo} is not JSON`);
    }
    if (!isHex(key, 32))
      throw new ProtocolError('invalid-roll', `line ${lineNo} must be a JSON string of 32-byte lowercase hex`);
    if (keys.length === 0) firstLine = lineNo;
    keys.push(Buffer.from(key, 'hex'));
    if (keys.length === CHUNK) {
      yield { keys, firstLine };
      keys = [];
    }
  }
  if (keys.length > 0) yield { keys, firstLine };
}
