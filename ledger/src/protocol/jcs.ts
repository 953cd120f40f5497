// RFC 8785 JSON Canonicalization Scheme. Everything Tallyproof signs or hashes is the UTF-8 of a JCS
// serialisation, so this is the one place that produces those bytes on the server side.
import canonicalizeImport from 'canonicalize';

const canonicalize = canonicalizeImport as unknown as (value: unknown) => string | undefined;

/** The JCS text of `value`. Throws on values JSON cannot carry (undefined, functions, non-finite numbers). */
export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

export function jcsBytes(value: unknown): Buffer {
  return Buffer.from(jcs(value), 'utf8');
}
