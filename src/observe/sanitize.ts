/**
 * Sanitizing anything that leaves the process for a viewer (the Stately inspector): a JSON
 * round trip first (actor refs become their toJSON, cycles are cut, bytes become their length),
 * then the logger's own redaction (src/observe/logger.ts): secret keys, token-like strings.
 */
import { isJsonBuffer, redactDeep } from './logger.js';

/** JSON-safe copy: cycles cut, typed arrays and Buffers reduced to `[N bytes]`, functions dropped. */
export function toSafeJson(value: unknown): unknown {
  const seen = new WeakSet<object>();
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'function' || typeof v === 'symbol') return undefined;
      if (v && typeof v === 'object') {
        if (ArrayBuffer.isView(v)) return `[${v.byteLength} bytes]`;
        if (v instanceof ArrayBuffer) return `[${v.byteLength} bytes]`;
        if (isJsonBuffer(v)) return `[${v.data.length} bytes]`;
        if (seen.has(v)) return '[circular]';
        seen.add(v);
      }
      return v;
    });
  } catch {
    return '[unserializable]';
  }
  return text === undefined ? undefined : JSON.parse(text);
}

/** What the inspector may see of any value. */
export function sanitizeForViewer<T>(value: T): T {
  return redactDeep(toSafeJson(value)) as T;
}
