/**
 * The option kit every module describes its options with. One description per key gives four
 * things: validation with the key path and a hint, the default, the TypeScript type (inferred:
 * `Infer<typeof shape>`), and the row in docs/configuration.md (rows()). The YAML schema of
 * `rasgate serve` composes the modules' descriptions; a library user resolves the same
 * description with resolveOptions(). No schema package: the messages are ours.
 */
import { OptionError } from '../errors.js';

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

/**
 * One option. `P` says whether a parsed mapping always holds the key (it has a default or is
 * required): that is what makes the key optional or not in the inferred type.
 */
export interface Field<T, P extends boolean = boolean> {
  /** Human type for docs and messages, e.g. `integer 1..65535`. */
  readonly type: string;
  readonly doc: string;
  /** The value used when the key is absent; undefined means the key is optional with no default. */
  readonly defaultValue?: () => T;
  /** Shown in docs when the default is computed (e.g. the host name). */
  readonly defaultText?: string;
  readonly required?: boolean;
  /** Type-level only: whether the key is always present once parsed. */
  readonly present?: P;
  /** Returns undefined after recording an issue. */
  parse(value: unknown, path: string, issues: Issues): T | undefined;
  /** Rows for nested keys (objects, lists of objects). */
  rows?(prefix: string): DocRow[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any field, whatever its value type
export type AnyField = Field<any, boolean>;
export type Shape = Record<string, AnyField>;
/** The value type of a field. */
export type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type PresentKeys<S extends Shape> = { [K in keyof S]: S[K] extends { present?: true } ? (S[K] extends { present?: false } ? never : K) : never }[keyof S];
/** The parsed value of a mapping of fields: keys with a default or required are always there. */
export type Infer<S extends Shape> = Simplify<{ [K in PresentKeys<S>]: ValueOf<S[K]> } & { [K in Exclude<keyof S, PresentKeys<S>>]?: ValueOf<S[K]> }>;
/** What a library caller may pass: any key may be left out (defaults fill it), recursively. */
export type Input<T> = T extends readonly (infer E)[] ? Input<E>[] : T extends Record<string, unknown> ? { [K in keyof T]?: Input<T[K]> } : T;

interface Common<T> {
  doc: string;
  default?: T;
  defaultText?: string;
  required?: boolean;
}

/** true when the options give a default or make the key required. */
type Present<O> = O extends { default: unknown } ? true : O extends { required: true } ? true : false;

export const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : String(v));

function common<T>(o: Common<T>): Pick<Field<T>, 'doc' | 'defaultValue' | 'defaultText' | 'required'> {
  const d = o.default;
  return { doc: o.doc, defaultValue: d === undefined ? undefined : () => structuredClone(d), defaultText: o.defaultText, required: o.required };
}

export function str<const O extends Common<string> & { check?: (v: string) => string | undefined; hint?: (v: string) => string | undefined; type?: string; empty?: boolean; exact?: boolean }>(o: O): Field<string, Present<O>> {
  return {
    type: o.type ?? 'string',
    ...common(o),
    parse(v, path, issues) {
      // YAML reads `file: 123` as a number: a name-like value is taken as the text it was, unless `exact`.
      if (!o.exact && (typeof v === 'number' || typeof v === 'boolean')) v = String(v);
      if (typeof v !== 'string') return issues.add(path, `${show(v)} is not a string`);
      // An empty value is refused unless the field says it means something (`empty`): an empty
      // requiredGroup or bindPassword would otherwise quietly turn a check off.
      if (!o.empty && v.length === 0) return issues.add(path, 'must not be empty');
      const bad = o.check?.(v);
      if (bad) return issues.add(path, bad, o.hint?.(v));
      return v;
    },
  };
}

export function num<const O extends Common<number> & { min?: number; max?: number; integer?: boolean; unit?: string }>(o: O): Field<number, Present<O>> {
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

export function bool<const O extends Common<boolean>>(o: O): Field<boolean, Present<O>> {
  return {
    type: 'boolean',
    ...common(o),
    parse(v, path, issues) {
      if (typeof v !== 'boolean') return issues.add(path, `${show(v)} is not true or false`, typeof v === 'string' && /^(yes|no|on|off)$/i.test(v) ? `write ${/^(yes|on)$/i.test(v)} (YAML 1.2 reads "${v}" as a string)` : undefined);
      return v;
    },
  };
}

export function oneOf<const V extends readonly string[], const O extends Common<V[number]>>(values: V, o: O): Field<V[number], Present<O>> {
  return {
    type: values.map((v) => `\`${v}\``).join(' \\| '),
    ...common(o),
    parse(v, path, issues) {
      if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as V[number];
      const near = typeof v === 'string' ? closest(v, values) : undefined;
      return issues.add(path, `${show(v)} is not one of ${values.join(', ')}`, near);
    },
  };
}

/** One of a few numbers (data bits, stop bits); a quoted number is taken too. */
export function numOneOf<const V extends readonly number[], const O extends Common<V[number]>>(values: V, o: O): Field<V[number], Present<O>> {
  return {
    type: values.map((v) => `\`${v}\``).join(' \\| '),
    ...common(o),
    parse(v, path, issues) {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n === 'number' && (values as readonly number[]).includes(n)) return n as V[number];
      return issues.add(path, `${show(v)} is not one of ${values.join(', ')}`);
    },
  };
}

export function list<T, const O extends Common<T[]> & { minItems?: number; maxItems?: number; type?: string }>(item: Field<T, boolean>, o: O): Field<T[], Present<O>> {
  return {
    type: o.type ?? `list of ${item.type}`,
    ...common(o),
    parse(v, path, issues) {
      if (!Array.isArray(v)) return issues.add(path, `${show(v)} is not a list`, typeof v === 'string' ? `[${JSON.stringify(v)}]` : undefined);
      if (o.minItems !== undefined && v.length < o.minItems) return issues.add(path, `needs at least ${o.minItems} item${o.minItems === 1 ? '' : 's'}`);
      if (o.maxItems !== undefined && v.length > o.maxItems) return issues.add(path, `has more than ${o.maxItems} items`);
      // Indices are kept (a failed item stays a hole) so that cross-checks name the right item.
      return v.map((x, i) => item.parse(x, `${path}[${i}]`, issues)) as T[];
    },
    rows: item.rows ? (prefix) => item.rows!(`${prefix}[]`) : undefined,
  };
}

/** A mapping with free keys (e.g. per-area log levels), or with `keys` the only ones allowed. */
export function dict<T, const O extends Common<Record<string, T>> & { keys?: readonly string[]; keyName?: string }>(value: Field<T, boolean>, o: O): Field<Record<string, T>, Present<O>> {
  return {
    type: `mapping of ${o.keyName ?? 'name'} -> ${value.type}`,
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

/**
 * A mapping with known keys: unknown keys are errors (typos), missing keys take their defaults.
 * A mapping returns what it could parse even after an issue, so that every problem is reported
 * (cross-checks included); validation refuses the whole when any issue exists.
 */
export function obj<S extends Shape, const O extends { doc: string; type?: string; defaultEmpty?: boolean; required?: boolean; unknownKey?: string; check?: (v: Infer<S>, path: string, issues: Issues) => void }>(
  fields: S,
  o: O,
): Field<Infer<S>, O extends { defaultEmpty: true } ? true : O extends { required: true } ? true : false> {
  const keys = Object.keys(fields);
  const field: Field<Infer<S>, boolean> = {
    type: o.type ?? 'mapping',
    doc: o.doc,
    required: o.required,
    defaultValue: o.defaultEmpty ? () => field.parse({}, '', new Issues()) as Infer<S> : undefined,
    parse(v, path, issues) {
      if (v === null || v === undefined) v = {};
      if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a mapping`);
      const before = issues.list.length;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (!keys.includes(k)) issues.add(join(path, k), o.unknownKey ?? 'unknown key', closest(k, keys) ?? `known keys: ${keys.join(', ')}`);
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
      if (issues.list.length === before) o.check?.(out as Infer<S>, path, issues);
      return out as Infer<S>;
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
  return field as Field<Infer<S>, O extends { defaultEmpty: true } ? true : O extends { required: true } ? true : false>;
}

/**
 * A library caller's options, checked and completed by the same description the configuration
 * uses; the first problem is thrown as OptionError naming the key (`prefix.key`).
 */
export function resolveOptions<T>(field: Field<T, boolean>, input: unknown, prefix: string): T {
  const issues = new Issues();
  const out = field.parse(input ?? {}, prefix, issues);
  const first = issues.list[0];
  if (first || out === undefined) {
    const issue = first ?? { path: prefix, message: 'is not valid' };
    throw new OptionError(issue.path || prefix, `${issue.message}${issue.hint ? ` (hint: ${issue.hint})` : ''}`);
  }
  return out;
}

export function defaultText(f: AnyField): string {
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
