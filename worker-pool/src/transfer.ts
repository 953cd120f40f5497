// Worker side: return a task's result with its buffers moved to the caller, not copied.
// The default export: in a bundle, piscina is imported from its CommonJS entry, which has no named exports.
import Piscina from 'piscina';

/**
 * `value`, as a task handler returns it, with `buffers` (the backing stores of its typed arrays, each
 * once) transferred. A transferred buffer is unusable in the worker afterwards: never pass one from
 * Buffer's shared pool (Buffer.allocUnsafe of small sizes); copy into a fresh Uint8Array first.
 */
export function transfer<T>(value: T, buffers: readonly ArrayBuffer[]): T {
  const movable = { [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: value };
  return Piscina.move(movable as never) as T;
}
