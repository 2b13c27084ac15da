/**
 * Number patterns in the configuration (caller ID allow/deny lists, callback allow lists): a
 * pattern with `*` (any run) and `?` (one character), or `/regex/`. A pattern matches the whole
 * value.
 */

/** Why `pattern` cannot be used (a `/regex/` that does not compile), or undefined. */
export function patternProblem(pattern: string): string | undefined {
  if (!(pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/'))) return undefined;
  try {
    new RegExp(pattern.slice(1, -1));
    return undefined;
  } catch (err) {
    return `${JSON.stringify(pattern)} is not a regular expression: ${(err as Error).message}`;
  }
}

/** Compiled patterns: the same few come from the configuration on every call. */
const compiled = new Map<string, RegExp>();
const MAX_COMPILED = 1024;

/** Does `pattern` match the whole of `value`? (A `/regex/` is anchored too: `/0711[0-9]+/` is not "contains".) */
export function patternMatches(pattern: string, value: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    re =
      pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')
        ? new RegExp(`^(?:${pattern.slice(1, -1)})$`)
        : new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(value);
}
