#!/usr/bin/env node
// Launcher for `tallyproof-verify`: registers tsx's ESM loader, then runs the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
