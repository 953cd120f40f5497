// The RPC URL the pages read the chain through (web/src/rpc-url.ts): the voter's saved one wins over the
// one the server publishes; without a saved one the published one applies. Run by `npm test` under Node.
import { describe, expect, it } from 'vitest';
import { chooseRpcUrl } from '../src/rpc-url.js';

describe('chooseRpcUrl', () => {
  it("never replaces the voter's saved URL with the server's", () => {
    expect(chooseRpcUrl('https://my-node.example/rpc', 'https://server.example/rpc')).toBe(
      'https://my-node.example/rpc',
    );
    expect(chooseRpcUrl('  http://127.0.0.1:8545 ', null)).toBe('http://127.0.0.1:8545');
  });

  it("takes the server's URL when nothing is saved, else the fallback", () => {
    expect(chooseRpcUrl(null, 'https://server.example/rpc')).toBe('https://server.example/rpc');
    expect(chooseRpcUrl('', 'https://server.example/rpc')).toBe('https://server.example/rpc');
    expect(chooseRpcUrl('   ', undefined, 'typed')).toBe('typed');
    expect(chooseRpcUrl(null, null)).toBe('');
  });
});
