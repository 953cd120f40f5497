// The committed artifact (contracts/artifacts/) is what the rest of Tallyproof deploys and calls.
// These tests fail when it is stale against contracts/TallyAnchor.sol (or the OpenZeppelin sources
// it imports) and when the ABI drifts from docs/protocol.md (section 7). Fix a failure with: npm run contracts:build
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { TALLY_ANCHOR_INTERFACE } from '../index.js';

const REBUILD =
  'the committed artifact is stale; rebuild it with `npm run contracts:build` (npx tsx contracts/scripts/build.ts)';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

interface SolcInput {
  language: string;
  sources: Record<string, { content: string }>;
  settings: Record<string, unknown>;
}
interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}
interface Solc {
  version(): string;
  compile(input: string): string;
}

const artifact = JSON.parse(readFileSync(new URL('../artifacts/TallyAnchor.json', import.meta.url), 'utf8')) as {
  contractName: string;
  sourceName: string;
  solcVersion: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
};
const solcInput = JSON.parse(
  readFileSync(new URL('../artifacts/TallyAnchor.solc-input.json', import.meta.url), 'utf8'),
) as SolcInput;

/** The file a solc source unit name stands for: ours under the repo root, imports in node_modules. */
function sourceFile(sourceName: string): string {
  return sourceName.startsWith('contracts/') ? `${repoRoot}${sourceName}` : require.resolve(sourceName);
}

describe('committed artifact', () => {
  it('was built from the current sources', () => {
    expect(Object.keys(solcInput.sources)).toContain(artifact.sourceName);
    for (const [name, { content }] of Object.entries(solcInput.sources)) {
      expect(readFileSync(sourceFile(name), 'utf8'), `${name}: ${REBUILD}`).toBe(content);
    }
  });

  it('matches a fresh compile of the current sources', { timeout: 120_000 }, () => {
    const solc = require('solc') as Solc;
    expect(
      solc.version().startsWith(artifact.solcVersion),
      `solc package ${solc.version()} vs artifact ${artifact.solcVersion}`,
    ).toBe(true);
    // Same settings as the committed input, today's source text.
    const input: SolcInput = {
      ...solcInput,
      sources: Object.fromEntries(
        Object.keys(solcInput.sources).map((name) => [name, { content: readFileSync(sourceFile(name), 'utf8') }]),
      ),
    };
    const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
    const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
    expect(errors.map((e) => e.formattedMessage)).toEqual([]);
    const compiled = output.contracts[artifact.sourceName]?.[artifact.contractName];
    expect(compiled).toBeDefined();
    expect(`0x${compiled!.evm.bytecode.object}`, REBUILD).toBe(artifact.bytecode);
    expect(`0x${compiled!.evm.deployedBytecode.object}`, REBUILD).toBe(artifact.deployedBytecode);
    expect(compiled!.abi, REBUILD).toEqual(artifact.abi);
  });
});

describe('ABI', () => {
  it('has exactly the interface of docs/protocol.md plus the documented additions', () => {
    const functions = TALLY_ANCHOR_INTERFACE.fragments
      .filter((f) => f.type === 'function')
      .map((f) => (f as unknown as { format(kind: string): string }).format('minimal'))
      .sort();
    expect(functions).toEqual(
      [
        // docs/protocol.md
        'function registerElection(bytes32,bytes32,bytes32)',
        'function anchorWindow(bytes32,uint64,uint64,uint64,bytes32)',
        'function closeElection(bytes32,bytes32,uint64)',
        'function windowCount(bytes32) view returns (uint64)',
        'function getWindow(bytes32,uint64) view returns (uint64,uint64,bytes32,uint64)',
        'function verifyInclusion(bytes32,uint64,uint64,bytes32,bytes32[]) view returns (bool)',
        // docs/protocol.md section 13 (shards)
        'function anchorInterval(bytes32,uint64,uint64,uint64,bytes32)',
        'function verifyIntervalInclusion(bytes32,uint64,uint64,uint32,uint64,uint64,uint64,bytes32,bytes32[],uint64,bytes32,bytes32[]) view returns (bool)',
        'function intervalCount(bytes32) view returns (uint64)',
        'function getInterval(bytes32,uint64) view returns (bytes32,uint64,uint64,uint64)',
        // additions, documented in docs/observers.md
        'function getElection(bytes32) view returns (bytes32,bytes32,uint64,bool,bytes32,uint64,uint64,uint64)',
        'function setAnchorer(address,bool)',
        'function isAnchorer(address) view returns (bool)',
        // OpenZeppelin Ownable
        'function owner() view returns (address)',
        'function transferOwnership(address)',
        'function renounceOwnership()',
      ].sort(),
    );
    const events = TALLY_ANCHOR_INTERFACE.fragments
      .filter((f) => f.type === 'event')
      .map((f) => f.format('full'))
      .sort();
    expect(events).toEqual(
      [
        'event ElectionRegistered(bytes32 indexed electionKey, bytes32 manifestHash, bytes32 rollRoot)',
        'event WindowAnchored(bytes32 indexed electionKey, uint64 indexed windowIndex, uint64 firstSeq, uint64 count, bytes32 root)',
        'event IntervalAnchored(bytes32 indexed electionKey, uint64 indexed intervalIndex, uint64 windowCount, uint64 ballotCount, bytes32 root)',
        'event ElectionClosed(bytes32 indexed electionKey, bytes32 resultHash, uint64 totalBallots)',
        'event AnchorerUpdated(address indexed account, bool allowed)',
        'event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)',
      ].sort(),
    );
    // Every error of ours is TallyAnchor-prefixed; the others are Ownable's.
    const errors = TALLY_ANCHOR_INTERFACE.fragments
      .filter((f) => f.type === 'error')
      .map((f) => (f as unknown as { name: string }).name);
    expect(errors.filter((name) => !name.startsWith('TallyAnchor')).sort()).toEqual([
      'OwnableInvalidOwner',
      'OwnableUnauthorizedAccount',
    ]);
  });
});
