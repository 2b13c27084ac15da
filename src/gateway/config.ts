/**
 * The configuration of `rasgate serve`: schema, validation with key paths and hints, defaults,
 * lookup and loading. See docs/configuration.md (generated from the same description).
 */
export * from './config/schema.js';
export * from './config/load.js';
export { hostIssues } from './config/host-checks.js';
export { parseTcpUrl, formatTcpUrl, type TcpAddress } from '../options/address.js';
export { formatIssue, type ConfigIssue, type DocRow } from '../options/fields.js';
export { summarize, describeLine, describeAction } from './config/summary.js';
