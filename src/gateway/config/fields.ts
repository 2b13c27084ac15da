/**
 * A small hand-written validation kit for the YAML configuration. One description per key
 * gives three things: validation with the key path and a hint, the default, and the row in
 * docs/configuration.md (see describe()). No schema package: the messages are ours.
 */

/** One problem in a configuration, e.g. `lines[1].listen: "x" is not tcp://HOST:PORT (hint: ...)`. */
export interface ConfigIssue {
  path: string;
  message: string;
  hint?: string;
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path || '(top level)'}: ${issue.message}${issue.hint ? ` (hint: ${issue.hint})` : ''}`;
}

export class Issues {
  readonly list: ConfigIssue[] = [];
  add(path: string, message: string, hint?: string): undefined {
    this.list.push(hint ? { path, message, hint } : { path, message });
    return undefined;
  }
}

/** A documentation row: key path, type, default, meaning. */
export interface DocRow {
  key: string;
  type: string;
  default: string;
  doc: string;
}

export interface Field<T = unknown> {
  /** Human type for docs and messages, e.g. `integer 1..65535`. */
  readonly type: string;
  readonly doc: string;
  /** The value used when the key is absent; undefined means the key is optional with no default. */
  readonly defaultValue?: () => T;
  /** Shown in docs when the default is computed (e.g. the host name). */
  readonly defaultText?: string;
  readonly required?: boolean;
  /** Returns undefined after recording an issue. */
  parse(value: unknown, path: string, issues: Issues): T | undefined;
  /** Rows for nested keys (objects, lists of objects). */
  rows?(prefix: string): DocRow[];
}

export const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : String(v));

interface Common<T> {
  doc: string;
  default?: T;
  defaultText?: string;
  required?: boolean;
}

function common<T>(o: Common<T>): Pick<Field<T>, 'doc' | 'defaultValue' | 'defaultText' | 'required'> {
  const d = o.default;
  return { doc: o.doc, defaultValue: d === undefined ? undefined : () => structuredClone(d), defaultText: o.defaultText, required: o.required };
}

export function str(o: Common<string> & { check?: (v: string) => string | undefined; hint?: (v: string) => string | undefined; type?: string; empty?: boolean }): Field<string> {
  return {
    type: o.type ?? 'string',
    ...common(o),
    parse(v, path, issues) {
      if (typeof v === 'number' || typeof v === 'boolean') v = String(v);
      if (typeof v !== 'string') return issues.add(path, `${show(v)} is not a string`);
      if (!o.empty && v.length === 0 && o.required) return issues.add(path, 'must not be empty');
      const bad = o.check?.(v);
      if (bad) return issues.add(path, bad, o.hint?.(v));
      return v;
    },
  };
}

export function num(o: Common<number> & { min?: number; max?: number; integer?: boolean; unit?: string }): Field<number> {
  const range = o.min !== undefined && o.max !== undefined ? ` ${o.min}..${o.max}` : o.min !== undefined ? ` >= ${o.min}` : '';
  return {
    type: `${o.integer ? 'integer' : 'number'}${range}${o.unit ? ` (${o.unit})` : ''}`,
    ...common(o),
    parse(v, path, issues) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return issues.add(path, `${show(v)} is not a number`, typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? `write ${Number(v)} without quotes` : undefined);
      if (o.integer && !Number.isInteger(v)) return issues.add(path, `${v} is not a whole number`, `${Math.round(v)}`);
      if (o.min !== undefined && v < o.min) return issues.add(path, `${v} is below the minimum ${o.min}`);
      if (o.max !== undefined && v > o.max) return issues.add(path, `${v} is above the maximum ${o.max}`);
      return v;
    },
  };
}

export function bool(o: Common<boolean>): Field<boolean> {
  return {
    type: 'boolean',
    ...common(o),
    parse(v, path, issues) {
      if (typeof v !== 'boolean') return issues.add(path, `${show(v)} is not true or false`, typeof v === 'string' && /^(yes|no|on|off)$/i.test(v) ? `write ${/^(yes|on)$/i.test(v)} (YAML 1.2 reads "${v}" as a string)` : undefined);
      return v;
    },
  };
}

export function oneOf<T extends string>(values: readonly T[], o: Common<T>): Field<T> {
  return {
    type: values.map((v) => `\`${v}\``).join(' \\| '),
    ...common(o),
    parse(v, path, issues) {
      if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
      const near = typeof v === 'string' ? closest(v, values) : undefined;
      return issues.add(path, `${show(v)} is not one of ${values.join(', ')}`, near);
    },
  };
}

export function list<T>(item: Field<T>, o: Common<T[]> & { minItems?: number; type?: string }): Field<T[]> {
  return {
    type: o.type ?? `list of ${item.type}`,
    ...common(o),
    parse(v, path, issues) {
      if (!Array.isArray(v)) return issues.add(path, `${show(v)} is not a list`, typeof v === 'string' ? `[${JSON.stringify(v)}]` : undefined);
      if (o.minItems !== undefined && v.length < o.minItems) return issues.add(path, `needs at least ${o.minItems} item${o.minItems === 1 ? '' : 's'}`);
      // Indices are kept (a failed item stays a hole) so that cross-checks name the right item.
      return v.map((x, i) => item.parse(x, `${path}[${i}]`, issues)) as T[];
    },
    rows: item.rows ? (prefix) => item.rows!(`${prefix}[]`) : undefined,
  };
}

/** A mapping with free keys (e.g. per-module log levels). */
export function dict<T>(value: Field<T>, o: Common<Record<string, T>> & { keys?: readonly string[] }): Field<Record<string, T>> {
  return {
    type: `mapping of ${o.keys ? 'module' : 'name'} -> ${value.type}`,
    ...common(o),
    parse(v, path, issues) {
      if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a mapping`);
      const out: Record<string, T> = {};
      for (const [k, x] of Object.entries(v)) {
        if (o.keys && !o.keys.includes(k)) {
          issues.add(`${path}.${k}`, `unknown key (known: ${o.keys.join(', ')})`, closest(k, o.keys));
          continue;
        }
        const r = value.parse(x, `${path}.${k}`, issues);
        if (r !== undefined) out[k] = r;
      }
      return out;
    },
  };
}

export type Shape = Record<string, Field<unknown>>;

/**
 * A mapping with known keys: unknown keys are errors (typos), missing keys take their defaults.
 * Lists, dicts and mappings return what they could parse even after an issue (see validate()).
 */
export function obj<T>(fields: Shape, o: { doc: string; type?: string; optional?: boolean; defaultEmpty?: boolean; check?: (v: T, path: string, issues: Issues) => void }): Field<T> {
  const keys = Object.keys(fields);
  const field: Field<T> = {
    type: o.type ?? 'mapping',
    doc: o.doc,
    defaultValue: o.defaultEmpty ? () => field.parse({}, '', new Issues()) as T : undefined,
    parse(v, path, issues) {
      if (v === null || v === undefined) v = {};
      if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a mapping`);
      const before = issues.list.length;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (!keys.includes(k)) issues.add(join(path, k), 'unknown key', closest(k, keys) ?? `known keys: ${keys.join(', ')}`);
        else if (x === undefined) continue;
        else {
          const r = fields[k]!.parse(x, join(path, k), issues);
          if (r !== undefined) out[k] = r;
        }
      }
      for (const k of keys) {
        if (k in out || (v as Record<string, unknown>)[k] !== undefined) continue;
        const f = fields[k]!;
        if (f.required) issues.add(join(path, k), `is required (${f.doc})`);
        else if (f.defaultValue) out[k] = f.defaultValue();
      }
      // Partial results go on (with the issues recorded) so that every problem is reported,
      // including cross-checks further up; validate() refuses the whole if any issue exists.
      if (issues.list.length === before) o.check?.(out as T, path, issues);
      return out as T;
    },
    rows(prefix) {
      return keys.flatMap((k) => {
        const f = fields[k]!;
        const key = join(prefix, k);
        const own: DocRow = { key, type: f.type, default: f.required ? '(required)' : defaultText(f), doc: f.doc };
        return [own, ...(f.rows?.(key) ?? [])];
      });
    },
  };
  return field;
}

export function defaultText(f: Field<unknown>): string {
  if (f.defaultText) return f.defaultText;
  if (!f.defaultValue) return '(none)';
  if (f.rows) return '(see below)';
  const v = f.defaultValue();
  if (typeof v === 'string') return v === '' ? '""' : JSON.stringify(v).slice(1, -1);
  return JSON.stringify(v);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The nearest known name within edit distance 2, for "did you mean" hints. */
export function closest(word: string, known: readonly string[]): string | undefined {
  if (word.length < 3) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best === undefined ? undefined : `did you mean "${best}"?`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
