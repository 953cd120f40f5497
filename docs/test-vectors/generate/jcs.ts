// jcs.json: JSON texts and their RFC 8785 canonical form (as canonicalize writes it).
import { canonicalize } from './reference.js';

const jcsCases: { name: string; input: string }[] = [
  {
    name: 'key order by UTF-16 code units, non-ASCII keys (RFC 8785 §3.2.3)',
    input:
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
  },
  {
    name: 'nested objects sorted recursively, arrays keep order',
    input: '{"b":[3,{"z":1,"a":2}],"a":{"d":null,"c":true}}',
  },
  {
    name: 'integers and number serialisation (ECMAScript)',
    input: '[0,-0,1,-1,1e0,100,1.5,1e21,1e-7,9007199254740991,0.1,1E+2]',
  },
  {
    name: 'string escapes: only the mandatory ones, lowercase \\u00XX',
    input:
      '{"s":"quote\\" backslash\\\\ slash\\/ tab\\t nl\\n cr\\r bs\\b ff\\f ctl\\u0001\\u001f del\\u007f e\\u00e9 emoji\\ud83d\\ude00"}',
  },
  { name: 'whitespace removed', input: ' { "a" : [ 1 , 2 ] , "b" : "x" } ' },
  {
    name: 'a ballot',
    input: '{"version":1,"selections":{"q1":["yes"]},"electionId":"demo-2026","credential":"aa"}',
  },
];
export function jcsVectors() {
  return {
    description:
      'RFC 8785 JSON Canonicalization Scheme. input is JSON text; ' +
      'canonical is the exact JCS output (compare as UTF-8 bytes).',
    cases: jcsCases.map((c) => ({ ...c, canonical: canonicalize(JSON.parse(c.input)) })),
  };
}
