// The job contract's surface (jobs/README.md): what producers and the worker share.
export * from './contract.js';
export * from './log.js';
export * from './queue-schema.js';
export * from './queues.js';
export * from './requests.js';
export * from './timeout.js';
