/**
 * `rasgate user callback NAME [--preset NUMBER | --caller-set [--default NUMBER] | --none] [--config FILE]`:
 * a local account's callback policy, kept in the per-user policy file (`authority.policyFile`,
 * src/callback/user-policy.ts), written whole, locked, atomically, mode 0600. Without a mode it
 * prints the policy. The account must exist in the store; its spelling there is the one kept.
 */
import { SmbpasswdStore } from '../../authority/local/index.js';
import { callbackNumberProblem } from '../../callback/number.js';
import { UserPolicyFile, callbackPolicyOf, type UserPolicy } from '../../callback/user-policy.js';
import { resolveLocalStore } from './user.js';
import { unixOperator } from '../../audit/index.js';
import { auditOperator, runCommand, UsageError } from '../operator.js';

export const CALLBACK_USAGE = 'usage: rasgate user callback NAME [--preset NUMBER | --caller-set [--default NUMBER] | --none] [--config FILE]\n';

type Mode = { mode: 'show' } | { mode: 'none' } | { mode: 'preset'; number: string } | { mode: 'caller'; defaultNumber?: string };

function parseArgs(argv: string[]): { name: string; config: string | undefined; want: Mode } {
  let config: string | undefined;
  let name: string | undefined;
  const modes: Mode[] = [];
  let defaultNumber: string | undefined;
  const value = (i: number, option: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${option} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') config = value(++i, '--config');
    else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (a === '--preset') modes.push({ mode: 'preset', number: value(++i, '--preset') });
    else if (a === '--caller-set') modes.push({ mode: 'caller' });
    else if (a === '--default') defaultNumber = value(++i, '--default');
    else if (a === '--none') modes.push({ mode: 'none' });
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (name === undefined) name = a;
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  if (!name) throw new UsageError('missing NAME');
  if (modes.length > 1) throw new UsageError('--preset, --caller-set and --none exclude each other');
  const want = modes[0] ?? { mode: 'show' };
  if (defaultNumber !== undefined) {
    if (want.mode !== 'caller') throw new UsageError('--default goes with --caller-set');
    want.defaultNumber = defaultNumber;
  }
  for (const n of [want.mode === 'preset' ? want.number : undefined, defaultNumber]) {
    const bad = n === undefined ? undefined : callbackNumberProblem(n);
    if (bad) throw new UsageError(bad);
  }
  return { name, config, want };
}

function describe(p: UserPolicy | undefined): string {
  const c = callbackPolicyOf(p);
  if (c.mode === 'preset') return `preset ${c.number}`;
  if (c.mode === 'caller') return c.defaultNumber !== undefined ? `set by caller, default ${c.defaultNumber}` : 'set by caller';
  return 'none';
}

export async function run(argv: string[]): Promise<number> {
  return runCommand('user callback', CALLBACK_USAGE, argv, async () => {
    const { name, config, want } = parseArgs(argv);
    const { path, policyFile, config: loaded } = resolveLocalStore(config);
    const store = new SmbpasswdStore(path, { recheckMs: 0 });
    const health = store.health();
    if (health.state === 'unreadable') throw new Error(health.error);
    const account = store.lookup(name);
    if (!account) throw new Error(`no user "${name}" in ${path}`);
    const file = new UserPolicyFile(policyFile, { recheckMs: 0 });
    if (want.mode === 'show') {
      process.stdout.write(`${account.name}: callback ${describe(file.lookup(account.name))}\n`);
      return 0;
    }
    const now = await file.update((users) => {
      const key = account.name.toLowerCase();
      const kept = users.get(key);
      const { callback: _old, ...rest } = kept?.policy ?? {};
      const callback =
        want.mode === 'preset' ? { mode: 'preset' as const, number: want.number } : want.mode === 'caller' ? { mode: 'caller' as const, ...(want.defaultNumber !== undefined ? { default: want.defaultNumber } : {}) } : undefined;
      const policy: UserPolicy = { ...rest, ...(callback ? { callback } : {}) };
      // A user with nothing left in the file leaves it.
      if (Object.keys(policy).length === 0) users.delete(key);
      else users.set(key, { name: account.name, policy });
      return policy;
    });
    // The number is the account's policy, not a secret: the audit trail keeps what was set.
    await auditOperator(loaded, { event: 'operator', action: 'user-callback', target: account.name, result: 'done', reason: describe(now), ...unixOperator() });
    process.stdout.write(`${account.name}: callback ${describe(now)} (${policyFile})\n`);
    return 0;
  });
}
