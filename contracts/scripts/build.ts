// Offline build of TallyAnchor: compile with Hardhat 2 (solc from the `solc` npm package, see
// contracts/hardhat.config.cts), then export the committed artifact (export-artifact.ts).
//
//   npx tsx contracts/scripts/build.ts
//
// Hardhat is driven as a library rather than through its CLI: the CLI insists on ts-node for a
// TypeScript config, whereas tsx (which runs this script) already transpiles the .cts config.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportArtifact } from './export-artifact.js';

const contractsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface HardhatRuntime {
  run(task: string, args?: Record<string, unknown>): Promise<unknown>;
}

async function main(): Promise<void> {
  process.env.HARDHAT_CONFIG = path.join(contractsDir, 'hardhat.config.cts');
  const require = createRequire(import.meta.url);
  const hre = require('hardhat') as HardhatRuntime;
  await hre.run('compile', { quiet: true });
  const written = await exportArtifact();
  for (const file of written) console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
