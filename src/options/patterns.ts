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

export function patternMatches(pattern: string, value: string): boolean {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) return new RegExp(pattern.slice(1, -1)).test(value);
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}
