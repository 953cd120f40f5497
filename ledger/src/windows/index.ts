// Windows along their lifecycle: sealed (seal.ts), read back with inclusion proofs (proofs.ts), gathered
// into anchor intervals when the election has several shards (intervals.ts), and the progress of sealing
// and anchoring (progress.ts).
export * from './rows.js';
export * from './seal.js';
export * from './proofs.js';
export * from './progress.js';
export * from './intervals.js';
export * from './tiles.js';
