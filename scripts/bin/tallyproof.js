#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx's ESM loader, so `npx tallyproof` works in the repo.
import { register } from 'tsx/esm/api';

register();
await import('../cli/tallyproof.ts');
