// The API source's roll: GET …/roll streamed and parsed as it arrives (NDJSON, or a JSON array when the
// server answers application/json), checked against the size the server announces.
import { InputError } from '../errors.js';
import { parseRollText } from '../roll.js';
import { errorMessage, REQUEST_TIMEOUT_MS } from './http.js';
import { parseRollNdjson } from './roll-ndjson.js';
import { counted } from '../plural.js';

/** GET `url` (an election's …/roll) and return its keys as served (unchecked strings). */
export async function downloadRoll(url: string): Promise<string[]> {
  // The download of a large roll takes a while: the timeout is for silence (no header, then no byte
  // for REQUEST_TIMEOUT_MS), not for the whole transfer.
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      controller.abort(new Error(`nothing received for ${REQUEST_TIMEOUT_MS / 1000} s`));
    }, REQUEST_TIMEOUT_MS);
  };
  arm();
  try {
    let res: Response;
    try {
      const accept = 'application/x-ndjson, application/json;q=0.5';
      res = await fetch(url, { headers: { accept }, signal: controller.signal });
    } catch (err) {
      throw new InputError(`GET ${url} failed: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 404) {
      const text = await res.text().catch(() => '');
      throw new InputError(
        `GET ${url} answered 404 (${errorMessage(text)}): the server offers no roll for this election; ` +
          'pass the roll with --roll FILE',
      );
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
          throw new InputError(
            `GET ${url} returned neither a JSON array of keys nor one key per line: ${(err as Error).message}`,
          );
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
      throw new InputError(
        `GET ${url} sent ${counted(keys.length, 'key')} but announced X-Roll-Size ${announced}: ` +
          'the download is incomplete or inconsistent; try again, or pass the roll with --roll FILE',
      );
    }
    return keys;
  } finally {
    clearTimeout(timer);
    controller.abort(); // a download given up half-way frees its connection (a no-op once it is read)
  }
}
