// Tests start real anvil chains with the same launcher `npm start` uses.
export * from '../../contracts/local-chain.js';
