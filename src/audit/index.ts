/** The audit trail: its events, the writer (file by day, journald), the reader and the table. */
export { noAudit, operatorFields, unixOperator, type Audit, type AuditEvent, type AuditRecord, type Operator, type OperatorAction } from './events.js';
export { AuditTrail, auditFiles, auditFileOf, auditFromConfig, JOURNAL_STREAM, type AuditTrailOptions } from './trail.js';
export { readAudit, recordFilter, parseTime, type AuditFilter, type AuditReading } from './read.js';
export { formatTable, printable } from './table.js';
export { auditFields, DEFAULT_AUDIT_FILE, type AuditConfig } from './options.js';
