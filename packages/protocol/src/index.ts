export * from './canonical-json.js';
export * from './effects.js';
export * from './denial-codes.js';
export * from './decision.js';
export * from './faithful-json.js';
export * from './times.js';
