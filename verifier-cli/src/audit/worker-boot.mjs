// Worker thread entry: worker threads cannot load TypeScript by themselves, so this plain module loads
// the TypeScript worker through tsx's scoped loader (tsImport), in the bin and under vitest alike. A
// compiled .js entry is imported directly.
import { workerData } from 'node:worker_threads';

const entry = workerData.entry;
if (entry.endsWith('.ts')) {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport(entry, import.meta.url);
} else {
  await import(entry);
}
