// postinstall: two fixes to postgres.js 3.4.9 (the `postgres` package, latest release) that upstream
// has not released yet, applied to its three builds (src, cjs, cf). Both are about a connection whose
// socket closes — PostgreSQL restarting, a backend terminated, a network drop:
//
// 1. closed() and terminate() clear the deferred-write timer without resetting it or the buffered
//    bytes, so after the connection reconnects every small write waits for a timer that never fires:
//    its queries hang forever (porsager/postgres#1154, LanternOps/breeze#3225).
// 2. nextWrite() writes to a socket that closed() has already set to null: an uncaught TypeError from
//    a setImmediate callback that kills the process (porsager/postgres#1066, #1208; PR #1168, #1209).
//    The write now fails its queries with CONNECTION_CLOSED, as a closed socket does elsewhere.
//
// Idempotent. Another version of the package is left alone with a notice (check whether it still needs
// this); 3.4.9 without the expected text fails the install, so the fix is never silently missing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const MARK = '/* tallyproof: patched (scripts/patch-postgres.mjs) */';
const require = createRequire(import.meta.url);
let root;
try {
  // The package exports no package.json: walk up from its entry point.
  root = dirname(require.resolve('postgres'));
  while (
    !existsSync(join(root, 'package.json')) ||
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name !== 'postgres'
  )
    root = dirname(root);
} catch {
  console.log('patch-postgres: the postgres package is not installed; nothing to patch');
  process.exit(0);
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (version !== '3.4.9') {
  console.log(`patch-postgres: postgres ${version} is not 3.4.9; not patched (see scripts/patch-postgres.mjs)`);
  process.exit(0);
}

const edits = [
  {
    what: 'nextWrite on a closed socket',
    from: '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
    to: "  function nextWrite(fn) {\n    if (socket === null) {\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options, socket))\n      return false\n    }\n    const x = socket.write(chunk, fn)",
  },
  {
    what: 'the write timer reset in terminate() and closed()',
    from: '\n    clearImmediate(nextWriteTimer)\n',
    to: '\n    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n',
    all: 2,
  },
];

let patched = 0;
for (const build of ['src', 'cjs/src', 'cf/src']) {
  const file = join(root, build, 'connection.js');
  if (!existsSync(file)) continue;
  let text = readFileSync(file, 'utf8');
  if (text.includes(MARK)) continue;
  for (const e of edits) {
    const count = text.split(e.from).length - 1;
    if (count !== (e.all ?? 1)) {
      console.error(`patch-postgres: ${file}: expected ${e.all ?? 1} place(s) for "${e.what}", found ${count}`);
      process.exit(1);
    }
    text = text.split(e.from).join(e.to);
  }
  writeFileSync(file, `${MARK}\n${text}`);
  patched++;
}
console.log(`patch-postgres: postgres ${version}: ${patched} build(s) patched`);
