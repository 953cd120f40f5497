// Hardhat 2 configuration for the TallyAnchor contract.
//
// Why `.cts`: the repository is an ES module package ("type": "module") and Hardhat 2 loads its
// config with require(), so the config must be CommonJS. Hardhat's own CLI would also want ts-node
// for a TypeScript config; we do not install it and instead drive Hardhat as a library from
// contracts/scripts/build.ts under tsx, which transpiles this file on require().
//
// Why the subtask override: Hardhat normally downloads the solc build it needs. We compile offline
// with the soljson.js shipped in the `solc` npm package, pinned to the exact version below.
import path = require('node:path');
import { subtask } from 'hardhat/config';
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from 'hardhat/builtin-tasks/task-names';
import type { HardhatUserConfig } from 'hardhat/types';

const SOLC_VERSION = '0.8.28';

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args: { solcVersion: string }) => {
  const solcPackage = require('solc/package.json') as { version: string };
  if (args.solcVersion !== SOLC_VERSION || solcPackage.version !== SOLC_VERSION) {
    throw new Error(
      `offline build needs solc ${SOLC_VERSION}; requested ${args.solcVersion}, the solc package is ${solcPackage.version}`,
    );
  }
  const solc = require('solc') as { version(): string };
  return {
    compilerPath: require.resolve('solc/soljson.js'),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version(), // e.g. "0.8.28+commit.7893614a.Emscripten.clang"
  };
});

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      // runs favours cheap calls over cheap deployment: anchorWindow runs every window.
      optimizer: { enabled: true, runs: 10_000 },
      // paris (no PUSH0, no MCOPY) so the bytecode runs on any post-merge consortium chain,
      // including Besu genesis files that have not enabled Shanghai/Cancun.
      evmVersion: 'paris',
    },
  },
  paths: {
    // The root is the repository so the source unit is named "contracts/TallyAnchor.sol" in the
    // metadata; Hardhat's own output stays under contracts/cache (git-ignored).
    root: path.resolve(__dirname, '..'),
    sources: path.resolve(__dirname),
    cache: path.resolve(__dirname, 'cache'),
    artifacts: path.resolve(__dirname, 'cache', 'artifacts'),
    tests: path.resolve(__dirname, 'test'),
  },
};

export = config;
