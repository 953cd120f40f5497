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
  return members(text, key, true)?.text;
}

/**
 * Like rawMember, and whether `key` is the only member of that name (JSON.parse keeps the last of
 * repeated names, rawMember gives the first).
 */
export function rawMemberOnce(text: string, key: string): { text: string; once: boolean } | undefined {
  return members(text, key, false);
}

function members(text: string, key: string, firstOnly: boolean): { text: string; once: boolean } | undefined {
  let found: { text: string; once: boolean } | undefined;
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== 0x7b /* { */) return undefined;
  i = skipWhitespace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) !== 0x7d /* } */) {
    // The key as written; only a key with escapes needs decoding to compare.
    let keyEnd = i + 1;
    let escaped = false;
    for (; keyEnd < text.length; keyEnd++) {
      const c = text.charCodeAt(keyEnd);
      if (c === 0x5c /* \\ */) {
        escaped = true;
        keyEnd++;
      } else if (c === 0x22 /* " */) break;
    }
    keyEnd = Math.min(keyEnd + 1, text.length); // one past the closing quote
    const matches = escaped
      ? (JSON.parse(text.slice(i, keyEnd)) as string) === key
      : keyEnd - 2 - i === key.length && text.startsWith(key, i + 1);
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== 0x3a /* : */) return found;
    const start = skipWhitespace(text, i + 1);
    const end = endOfValue(text, start);
    if (matches) {
      if (found !== undefined) {
        found.once = false;
        return found;
      }
      found = { text: text.slice(start, end), once: true };
      if (firstOnly) return found;
    }
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) === 0x2c /* , */) i = skipWhitespace(text, i + 1);
  }
  return found;
}

/**
 * A sufficient condition, checked in one pass without serialising, for `text` (which JSON.parse
 * accepted) being its own JCS serialisation: no whitespace between tokens; strings of printable ASCII
 * (0x20..0x7e) without a backslash; numbers that are integers of at most 15 digits with no leading zero
 * (and not -0); literals; object keys strictly ascending. Such text is what jcs(JSON.parse(text))
 * writes: a string needing no escape is written as is between quotes, a safe integer's shortest form is
 * its digits, keys are written sorted by UTF-16 code units (for ASCII, the order of `<`) and none
 * repeats, and nothing is written between tokens. `false` decides nothing: compare with jcs() then.
 */
export function isPlainlyCanonical(text: string): boolean {
  // Per open container: an array (null), or an object and its last key so far (undefined before the first).
  const lastKeys: (string | null | undefined)[] = [];
  let keyNext = false;
  let started = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i + 1;
      let j = start;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d < 0x20 || d > 0x7e || d === 0x5c /* \ */) return false;
      }
      if (j >= n) return false;
      if (keyNext) {
        const key = text.slice(start, j);
        const depth = lastKeys.length - 1;
        const last = lastKeys[depth];
        if (last === null || (last !== undefined && !(key > last))) return false;
        lastKeys[depth] = key;
        keyNext = false;
      }
      i = j + 1;
    } else if (c === 0x7b /* { */) {
      lastKeys.push(undefined);
      keyNext = true;
      i++;
    } else if (c === 0x5b /* [ */) {
      lastKeys.push(null);
      keyNext = false;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      lastKeys.pop();
      keyNext = false;
      i++;
    } else if (c === 0x2c /* , */) {
      keyNext = lastKeys.length > 0 && lastKeys[lastKeys.length - 1] !== null;
      i++;
    } else if (c === 0x3a /* : */) {
      keyNext = false;
      i++;
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
      if (!text.startsWith(literal, i)) return false;
      i += literal.length;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = c === 0x2d ? i + 1 : i;
      const first = text.charCodeAt(j);
      if (first === 0x30 /* 0 */) {
        if (c === 0x2d) return false; // -0 is written 0
        j++;
      } else {
        if (!(first >= 0x31 && first <= 0x39)) return false;
        const digitsStart = j;
        while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
        if (j - digitsStart > 15) return false;
      }
      const after = text.charCodeAt(j);
      if (
        after === 0x2e /* . */ ||
        after === 0x65 /* e */ ||
        after === 0x45 /* E */ ||
        (after >= 0x30 && after <= 0x39)
      )
        return false;
      i = j;
    } else {
      return false; // whitespace, or anything else
    }
    started = true;
  }
  return started && lastKeys.length === 0;
}

function skipWhitespace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/**
 * Index one past the JSON string that starts at `i` (text[i] is the opening quote): the first quote
 * after it preceded by an even number of backslashes (indexOf skips long hex strings quickly).
 */
function endOfString(text: string, i: number): number {
  for (let from = i + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length;
    let b = quote - 1;
    while (b > i && text.charCodeAt(b) === 0x5c /* backslash */) b--;
    if ((quote - 1 - b) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Index one past the JSON value that starts at `i`. */
function endOfValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return endOfString(text, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x22) j = endOfString(text, j) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i; // number, true, false, null
  for (; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
  }
  return j;
}
