// Process entry of `tallyproof-verify` (loaded by bin/tallyproof-verify.js through tsx).
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
