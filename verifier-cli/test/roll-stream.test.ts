// The NDJSON roll parser of `audit --api` (GET …/roll): lines split across chunks anywhere, malformed
// lines named by number, bounded line length.
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { parseRollNdjson } from '../src/sources/roll-ndjson.js';

const key = (i: number): string => i.toString(16).padStart(2, '0').repeat(32);

async function* pieces(text: string | Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('parseRollNdjson', () => {
  it('reads one JSON string per line, whatever the chunking', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => key(i));
    const text = keys.map((k) => JSON.stringify(k) + '\n').join('');
    for (const size of [1, 7, 66, 67, 68, 1000, 1 << 20])
      expect(await parseRollNdjson(pieces(text, size)), `chunks of ${size}`).toEqual(keys);
  });

  it('takes CRLF, blank lines, surrounding blanks, escapes and a last line without newline', async () => {
    const text = `\r\n"${key(1)}"\r\n\n  "${key(2)}"  \n"\\u00${key(3).charCodeAt(0).toString(16)}${key(3).slice(1)}"\n"${key(4)}"`;
    expect(await parseRollNdjson(pieces(text, 5))).toEqual([key(1), key(2), key(3), key(4)]);
    expect(await parseRollNdjson(pieces('', 5))).toEqual([]);
  });

  it('returns strings that are not keys as they are (the audit reports them as roll-invalid)', async () => {
    expect(await parseRollNdjson(pieces(`"${key(1)}"\n"ABC"\n"${key(2).toUpperCase()}"\n`, 9))).toEqual([
      key(1),
      'ABC',
      key(2).toUpperCase(),
    ]);
  });

  it('refuses a line that is not a JSON string, naming it', async () => {
    for (const bad of [key(3), '42', '["x"]', `"${key(3)}`, '{"key":1}', 'null']) {
      const text = `"${key(1)}"\n\n"${key(2)}"\n${bad}\n"${key(4)}"\n`;
      const err = await parseRollNdjson(pieces(text, 10), 'the roll from X').catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(InputError);
      expect((err as Error).message, bad).toMatch(/^the roll from X: line 4 is not a JSON string/);
    }
  });

  it('refuses an endless line and invalid UTF-8 without reading on', async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode(`"${key(1)}"\n`);
      for (;;) yield new TextEncoder().encode('"' + 'a'.repeat(500));
    }
    await expect(parseRollNdjson(endless())).rejects.toThrow(/line 2 is longer than 1024 characters/);
    const bytes = new Uint8Array([...new TextEncoder().encode(`"${key(1)}"\n"`), 0xff, 0x22, 0x0a]);
    await expect(parseRollNdjson(pieces(bytes, 3))).rejects.toThrow(/not valid UTF-8/);
  });
});
