/**
 * Options of the audit trail (`audit:`), each key described once; src/gateway/config/schema.ts
 * composes them. The file holds one JSON record per line, a file a day (UTC), mode 0600.
 */
import { bool, num, show, str, type Infer } from '../options/fields.js';

/** The file when `audit.file` is not given: in the state directory. */
export const DEFAULT_AUDIT_FILE = 'audit/audit-%DATE%.jsonl';

export const auditFields = {
  enabled: bool({ doc: 'keep the audit trail: calls, login attempts, lockouts, penalties, operator actions (never a password)', default: true }),
  file: str({
    doc: `JSON-lines file; \`%DATE%\` becomes the day (UTC, YYYY-MM-DD), one file a day, mode 0600 (default: \`${DEFAULT_AUDIT_FILE}\` in stateDirectory; relative: from the config file's folder)`,
    check: (v) => (/%DATE%/.test(v.slice(v.lastIndexOf('/') + 1)) ? undefined : `${show(v)} has no %DATE% in its file name (one file a day)`),
    hint: (v) => `${v.replace(/(\.[^./]*)?$/, '-%DATE%$1')}`,
  }),
  maxFiles: num({ doc: 'days of audit files kept; older ones are removed when a new day begins', default: 90, min: 1, max: 36_500, integer: true }),
  journald: bool({ doc: "also send each record to journald's stdout stream, under its own SYSLOG_IDENTIFIER", default: false }),
  identifier: str({ doc: 'the SYSLOG_IDENTIFIER of audit records in journald (`journalctl -t rasgate-audit`)', default: 'rasgate-audit', check: (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? undefined : `${show(v)} is not an identifier (letters, digits, _ . -)`) }),
};

export type AuditConfig = Infer<typeof auditFields>;
