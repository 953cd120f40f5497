// The module piscina starts in every worker thread of a WorkerPool. Plain JavaScript: it runs before any
// TypeScript loader could. It imports the worker module named by the thread's last argv entry (a bundle
// or a compiled .js directly, a .ts through tsx's tsImport) and exports its default function as the task
// handler. A worker module that fails to load becomes a handler that fails every task with that error:
// callers get the error, where a thread dying at boot would leave piscina's queue waiting.
const entry = process.argv.at(-1);

async function load() {
  if (!entry.endsWith('.ts')) return import(entry);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(entry, import.meta.url);
}

let handler;
try {
  handler = (await load()).default;
  if (typeof handler !== 'function') throw new TypeError(`${entry} has no default export function`);
} catch (err) {
  handler = () => {
    throw err;
  };
}

export default handler;
