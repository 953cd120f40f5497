// RFC 8785 JSON Canonicalization Scheme: serialise with `canonicalize`, and check that stored text is
// canonical by re-serialising its parsed value and comparing the two strings (RFC 8785 §3: one value,
// one serialisation). rawMember() recovers the exact text of one member of a JSON object so that the
// check sees the bytes the server sent, not what JSON.parse made of them.
import canonicalizeImport from 'canonicalize';

const canonicalize = canonicalizeImport as unknown as (value: unknown) => string | undefined;

/** JCS(value). Throws on values JSON cannot represent (undefined, NaN, Infinity). */
export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('JCS: value has no JSON serialisation');
  return text;
}

/** RFC 8785: `text` is exactly the canonical serialisation of the JSON value it encodes. */
export function isCanonicalJson(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return jcs(value) === text;
}

/**
 * The raw text of member `key` of the top-level JSON object `text` (first occurrence), or undefined
 * when `text` is not an object or has no such member. `text` must already be valid JSON (JSON.parse
 * succeeded); this only finds the member's boundaries.
 */
export function rawMember(text: string, key: string): string | undefined {
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipWhitespace(text, i + 1);
  while (i < text.length && text[i] !== '}') {
    const keyEnd = endOfString(text, i);
    // The key as written; only a key with escapes needs decoding to compare.
    const written = text.slice(i + 1, keyEnd - 1);
    const name = written.includes('\\') ? (JSON.parse(text.slice(i, keyEnd)) as string) : written;
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    const start = skipWhitespace(text, i + 1);
    const end = endOfValue(text, start);
    if (name === key) return text.slice(start, end);
    i = skipWhitespace(text, end);
    if (text[i] === ',') i = skipWhitespace(text, i + 1);
  }
  return undefined;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** Index one past the JSON string that starts at `i` (text[i] is the opening quote). */
function endOfString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** Index one past the JSON value that starts at `i`. */
function endOfValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return endOfString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') j = endOfString(text, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i; // number, true, false, null
  while (j < text.length && !',}] \t\n\r'.includes(text[j]!)) j++;
  return j;
}
