export * from './merkle.js';
export * from './note.js';
export * from './checkpoint.js';
export * from './crc32c.js';
export * from './frames.js';
export * from './record.js';
export * from './log/audit-log.js';
export { LogLockedError } from './log/files.js';
