// Copies the parts of Hardhat's build output that the rest of Tallyproof needs into the committed
// files under contracts/artifacts/, so a fresh clone works without compiling:
//
//   contracts/artifacts/TallyAnchor.json             {contractName, sourceName, solcVersion, abi, bytecode, deployedBytecode}
//   contracts/artifacts/TallyAnchor.solc-input.json  the exact solc standard-JSON input, for source
//                                                    verification and for the staleness test
//
// Run after a Hardhat compile (contracts/scripts/build.ts does both):  npx tsx contracts/scripts/export-artifact.ts
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const contractsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_NAME = 'contracts/TallyAnchor.sol';
const CONTRACT_NAME = 'TallyAnchor';

export const ARTIFACT_PATH = path.join(contractsDir, 'artifacts', 'TallyAnchor.json');
export const SOLC_INPUT_PATH = path.join(contractsDir, 'artifacts', 'TallyAnchor.solc-input.json');

/** Shape of contracts/artifacts/TallyAnchor.json. */
export interface TallyAnchorArtifact {
  contractName: string;
  sourceName: string;
  solcVersion: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
}

interface HardhatBuildInfo {
  solcLongVersion: string;
  input: { sources: Record<string, unknown> };
  output: {
    contracts: Record<
      string,
      Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
    >;
  };
}

/** Finds the Hardhat build-info that compiled TallyAnchor most recently. */
async function readBuildInfo(): Promise<HardhatBuildInfo> {
  const debugFile = path.join(contractsDir, 'cache', 'artifacts', SOURCE_NAME, `${CONTRACT_NAME}.dbg.json`);
  let debug: { buildInfo: string };
  try {
    debug = JSON.parse(await readFile(debugFile, 'utf8')) as { buildInfo: string };
  } catch {
    const hint = 'compile first: npx tsx contracts/scripts/build.ts';
    throw new Error(`no Hardhat output for ${CONTRACT_NAME} at ${debugFile}; ${hint}`);
  }
  const buildInfoFile = path.resolve(path.dirname(debugFile), debug.buildInfo);
  return JSON.parse(await readFile(buildInfoFile, 'utf8')) as HardhatBuildInfo;
}

/** Writes the committed artifact files and returns their paths. */
export async function exportArtifact(): Promise<string[]> {
  const buildInfo = await readBuildInfo();
  const compiled = buildInfo.output.contracts[SOURCE_NAME]?.[CONTRACT_NAME];
  if (compiled === undefined) throw new Error(`build-info has no ${SOURCE_NAME}:${CONTRACT_NAME}`);

  const artifact: TallyAnchorArtifact = {
    contractName: CONTRACT_NAME,
    sourceName: SOURCE_NAME,
    // "0.8.28+commit.7893614a": the platform suffix of the wasm build (".Emscripten.clang") does
    // not change the output and block explorers expect the version without it.
    solcVersion: buildInfo.solcLongVersion.replace(/\.Emscripten\.clang$/, ''),
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  };
  await mkdir(path.dirname(ARTIFACT_PATH), { recursive: true });
  await writeFile(ARTIFACT_PATH, `${JSON.stringify(artifact, null, 2)}\n`);
  await writeFile(SOLC_INPUT_PATH, `${JSON.stringify(buildInfo.input, null, 2)}\n`);
  return [ARTIFACT_PATH, SOLC_INPUT_PATH];
}

// Allow `tsx contracts/scripts/export-artifact.ts` on its own.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  exportArtifact()
    .then((files) => {
      for (const file of files) console.log(`wrote ${path.relative(process.cwd(), file)}`);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    });
}
