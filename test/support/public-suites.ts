// The public test suites vendored in docs/test-vectors/public/ (its README says where each comes from),
// read once for the three implementations' tests: the server's (ledger/test), the verifier's
// (verifier-cli/test) and the page's (web/test). Data only, importing nothing of the repository, so the
// verifier's tests may use it and stay independent of the server.
import { readdirSync, readFileSync } from 'node:fs';

const suites = new URL('../../docs/test-vectors/public/', import.meta.url);
const bytesOf = (path: string): Buffer => readFileSync(new URL(path, suites));
const jsonOf = <T>(path: string): T => JSON.parse(bytesOf(path).toString('utf8')) as T;

/** The project's verdicts for the suites (expectations.json). */
export const expectations = jsonOf<{
  'ed25519-speccheck': { case: number; valid: boolean; reason: string | null; why: string }[];
  'json-canonicalization': { refused: Record<string, Record<string, string>> };
}>('expectations.json');

export interface WycheproofCase {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
  pk: string;
}
const wycheproof = jsonOf<{
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: Omit<WycheproofCase, 'pk'>[] }[];
}>('wycheproof/ed25519_test.json');

/** The test count Wycheproof's header states. */
export const wycheproofCount = wycheproof.numberOfTests;
/** Every Wycheproof case, with its group's public key. */
export const wycheproofCases: WycheproofCase[] = wycheproof.testGroups.flatMap((g) =>
  g.tests.map((t) => ({ ...t, pk: g.publicKey.pk })),
);
/** `[name, case]` rows for it.each. */
export const wycheproofRows = wycheproofCases.map(
  (c) => [`tcId ${c.tcId} (${c.result}) ${c.comment || c.flags.join(' ')}`, c] as const,
);

/** ed25519-speccheck's 12 cases, in order (case i is index i). */
export const speccheckCases =
  jsonOf<{ message: string; pub_key: string; signature: string }[]>('ed25519-speccheck/cases.json');
/** `[name, expectation]` rows for it.each. */
export const speccheckRows = expectations['ed25519-speccheck'].map((e) => [`case ${e.case}: ${e.why}`, e] as const);

/** cyberphone's RFC 8785 testdata: the input file names, sorted. */
export const jcsFiles = readdirSync(new URL('json-canonicalization/input/', suites)).sort();
/** The output file names, sorted. */
export const jcsOutputFiles = readdirSync(new URL('json-canonicalization/output/', suites)).sort();
export const jcsInputText = (file: string): string => bytesOf(`json-canonicalization/input/${file}`).toString('utf8');
export const jcsOutput = (file: string): Buffer => bytesOf(`json-canonicalization/output/${file}`);
/** The bytes of outhex/<name>.txt (the expected output spelled in hex). */
export const jcsOutHex = (file: string): string =>
  bytesOf(`json-canonicalization/outhex/${file.replace(/\.json$/, '.txt')}`)
    .toString('utf8')
    .trim()
    .split(/\s+/)
    .join('');
