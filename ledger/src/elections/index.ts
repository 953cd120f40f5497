// Elections along their lifecycle: created (create.ts), the roll loaded and frozen (roll.ts), read
// (read.ts). Closing is ../close.ts.
export * from './create.js';
export * from './roll.js';
export * from './read.js';
export * from './roll-lookup.js';
