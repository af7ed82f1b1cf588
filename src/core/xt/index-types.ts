/**
 * One import for extension modules: the extension model, error helpers
 * and the name database type.
 */
export * from './types.js';
export type { NameDb } from './namedb.js';
