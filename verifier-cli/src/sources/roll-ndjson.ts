// The roll as NDJSON (what GET …/roll serves), parsed as the bytes arrive: the API source's roll.
import { InputError } from '../errors.js';

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
    if (rest.length > MAX_ROLL_LINE) {
      throw new InputError(`${what}: line ${lineNo + 1} is longer than ${MAX_ROLL_LINE} characters`);
    }
  }
  rest += decode();
  if (rest.length > 0) take(rest);
  return keys;
}
