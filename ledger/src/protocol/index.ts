export * from './jcs.js';
export * from './hash.js';
export * from './merkle.js';
export * from './ed25519.js';
export * from './errors.js';
export * from './protocol.js';
export * from './shards.js';
export * from './tiles.js';
