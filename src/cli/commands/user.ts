/**
 * `rasgate user add|passwd|del|list|lock|unlock|disable|enable NAME [--config FILE]
 * [--password-stdin]`: manage the local authority's smbpasswd-format file. Passwords are read
 * twice without echo on a terminal (or one line from stdin with --password-stdin), turned into
 * the NT hash at once, and never stored, printed or logged. Writes go through
 * SmbpasswdStore.update (lock + atomic rename). lock/unlock set and clear the L flag, as Samba's
 * pdbedit -c '[L]' does (unlock also ends the name's lockout: src/guard); disable/enable the D
 * flag, as smbpasswd -d / -e. Each change is an `operator` record in the audit trail.
 */
import { EMBEDDED_SOURCE, loadConfig, type RasgateConfig } from '../../gateway/config.js';
import { SmbpasswdStore, formatFlags, type AccountFlag, type SmbpasswdEntry } from '../../authority/local/index.js';
import { ntowfv1 } from '../../ntlm/crypto.js';
import { makeFolders } from '../../files/atomic.js';
import { accountKey, clearInFile, statePath } from '../../guard/index.js';
import type { OperatorAction } from '../../audit/index.js';
import { unixOperator } from '../../audit/index.js';
import { auditOperator } from '../operator.js';
import { policyFilePath } from '../../callback/user-policy.js';

const USAGE = `usage: rasgate user add|passwd|del|list|lock|unlock|disable|enable NAME [--config FILE] [--password-stdin]
       rasgate user callback NAME [--preset NUMBER | --caller-set [--default NUMBER] | --none] [--config FILE]
  Manage the local authority's accounts (an smbpasswd-format file, authority.file).
  add NAME       create an account (asks for the password twice, without echo)
  passwd NAME    set a new password
  del NAME       delete the account
  list           list the accounts and their flags
  lock NAME      set the account's lock flag (L): every login is refused
  unlock NAME    clear the lock flag and end the name's lockout (rasgate lockout)
  disable NAME   set the disabled flag (D), as smbpasswd -d
  enable NAME    clear the disabled flag, as smbpasswd -e
  callback NAME  show or set the account's callback (rasgate user callback --help)
  --config FILE, -c FILE  the configuration whose authority.file to change (default:
                          $RASGATE_CONFIG, ./rasgate.yaml, else the embedded ./var/smbpasswd)
  --password-stdin        read the password from the first line of standard input
  The running daemon picks changes up by itself (or send it SIGHUP). Each change is recorded
  in the audit trail with the unix user who made it.
  Exit status: 0 done, 1 failed, 2 bad usage, 130 interrupted.
`;
const ACTIONS = ['add', 'passwd', 'del', 'list', 'lock', 'unlock', 'disable', 'enable'];

/** The account flag each of these sets (true) or clears (false). */
const FLAG_ACTIONS: Record<string, { flag: AccountFlag; on: boolean; done: string; already: string }> = {
  lock: { flag: 'L', on: true, done: 'locked', already: 'was already locked' },
  unlock: { flag: 'L', on: false, done: 'unlocked', already: 'was not locked' },
  disable: { flag: 'D', on: true, done: 'disabled', already: 'was already disabled' },
  enable: { flag: 'D', on: false, done: 'enabled', already: 'was not disabled' },
};
/** UNLEN (lmcons.h). */
const MAX_NAME = 256;
/** PWLEN (lmcons.h). */
const MAX_PASSWORD = 256;
/** First uid given to accounts that have none on this host (Samba's idea of a non-Unix account). */
const FIRST_UID = 1000;

class UsageError extends Error {}

/**
 * Where the local authority's file is: `authority.file` of the configuration the gateway would
 * use (--config FILE, $RASGATE_CONFIG, ./rasgate.yaml, else the embedded default's
 * ./var/smbpasswd), resolved exactly as `rasgate serve` resolves it (relative to the file's
 * folder). An invalid configuration or a domain authority is an error, not a silent default.
 * `source` is the configuration file, or EMBEDDED_SOURCE.
 */
export function resolveLocalStore(configFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): { path: string; source: string; config: RasgateConfig; policyFile: string } {
  const { config, source } = loadConfig({ path: configFlag, env });
  if (config.authority.type !== 'local') throw new Error(`${source}: authority.type is ${config.authority.type}: accounts live in the domain, not in a local file`);
  return { path: config.authority.file, source, config, policyFile: policyFilePath(config.authority) };
}

interface Args {
  action: string;
  name: string | undefined;
  config: string | undefined;
  passwordStdin: boolean;
}

function parseArgs(argv: string[]): Args {
  const rest: string[] = [];
  let config: string | undefined;
  let passwordStdin = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') {
      config = argv[++i];
      if (!config) throw new UsageError('--config needs a FILE');
    } else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (a === '--password-stdin') passwordStdin = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else rest.push(a);
  }
  const [action, name, extra] = rest;
  if (!action) throw new UsageError('missing action');
  if (!ACTIONS.includes(action)) throw new UsageError(`unknown action "${action}"`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return { action, name, config, passwordStdin };
}

function checkName(name: string | undefined): string {
  if (!name) throw new UsageError('missing NAME');
  if (name.length > MAX_NAME || /[\s:\\/@]/.test(name) || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new UsageError(`"${name}" is not a valid user name (no spaces, ':', '\\', '/', '@', control characters; at most ${MAX_NAME})`);
  }
  return name;
}

/** One line from a pipe: everything up to the first newline (CR stripped). */
/** The most of a line read from standard input (far more than PWLEN). */
const MAX_STDIN_LINE = 64 * 1024;

export function readStdinLine(): Promise<string> {
  return new Promise((resolveLine, reject) => {
    const chunks: Buffer[] = [];
    const stdin = process.stdin;
    const done = (line: string) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', reject);
      stdin.pause();
      resolveLine(line.replace(/\r$/, ''));
    };
    let size = 0;
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      chunks.push(nl >= 0 ? chunk.subarray(0, nl) : chunk);
      size += chunk.length;
      // A line longer than any password is refused by the caller; never read on without end.
      if (nl >= 0 || size > MAX_STDIN_LINE) done(Buffer.concat(chunks).subarray(0, MAX_STDIN_LINE).toString('utf8'));
    };
    const onEnd = () => done(Buffer.concat(chunks).toString('utf8'));
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', reject);
  });
}

export class Interrupted extends Error {}

/**
 * Prompt on the terminal without echo: Enter ends, BS/DEL erase, ^U kills, ^C / ^D abort.
 * The caller has put the terminal in raw mode *before* the prompt is shown, so that nothing
 * typed early is echoed by the line discipline.
 */
export function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolvePw, reject) => {
    const stdin = process.stdin;
    let chars: string[] = [];
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.pause();
      process.stderr.write('\r\n');
      if (err) reject(err);
      else resolvePw(chars.join(''));
      chars = [];
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\x03') return finish(new Interrupted('interrupted'));
        if (ch === '\x04') {
          if (chars.length === 0) return finish(new Interrupted('end of input'));
          continue;
        }
        if (ch === '\x7f' || ch === '\b') chars.pop();
        else if (ch === '\x15') chars = [];
        else if (ch >= ' ') chars.push(ch);
      }
    };
    stdin.on('data', onData);
    stdin.resume();
    process.stderr.write(prompt);
  });
}

/** Run `fn` with the terminal in raw mode (no echo), restoring it whatever happens. */
export async function withRawTerminal<T>(fn: () => Promise<T>): Promise<T> {
  process.stdin.setRawMode(true);
  try {
    return await fn();
  } finally {
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

async function readNewPassword(passwordStdin: boolean): Promise<string> {
  let password: string;
  if (passwordStdin) password = await readStdinLine();
  else if (process.stdin.isTTY) {
    const [first, again] = await withRawTerminal(async () => [await promptHidden('New password: '), await promptHidden('Retype new password: ')]);
    if (again !== first) throw new Error('passwords do not match; nothing changed');
    password = first!;
  } else throw new UsageError('standard input is not a terminal: pass --password-stdin to read the password from it');
  if (password.length === 0) throw new Error('empty password refused; nothing changed');
  if (password.length > MAX_PASSWORD) throw new Error(`password longer than ${MAX_PASSWORD} characters refused; nothing changed`);
  return password;
}

function describe(e: SmbpasswdEntry): string {
  return `${e.name.padEnd(20)} ${formatFlags(e.flags)}`;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export async function run(argv: string[]): Promise<number> {
  // The per-user policy file, beside the store (src/cli/commands/user-callback.ts).
  if (argv[0] === 'callback') return (await import('./user-callback.js')).run(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`rasgate user: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { path, source, config } = resolveLocalStore(args.config);
  const who = unixOperator();
  const audit = (action: OperatorAction, result: 'done' | 'unchanged') => auditOperator(config, { event: 'operator', action, target: args.name ?? '', result, ...who });
  const store = new SmbpasswdStore(path, { recheckMs: 0 });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => process.stderr.write(`rasgate user: ${line}\n`);
  try {
    const name = args.action === 'list' ? '' : checkName(args.name);
    // Every action starts from a readable store: an unreadable one is never taken for an empty one.
    const health = store.health();
    if (health.state === 'unreadable') throw new Error(health.error);
    const mustExist = (e: SmbpasswdEntry | undefined) => {
      if (!e) throw new Error(`no user "${name}" in ${path}`);
      return e;
    };
    switch (args.action) {
      case 'list': {
        for (const e of store.list()) say(describe(e));
        note(health.state === 'absent' ? `${path} does not exist yet: no accounts` : `${path}: ${plural(health.accounts, 'account')}`);
        for (const p of store.problems) process.stderr.write(`${path}:${p.line}: skipped: ${p.reason}\n`);
        return 0;
      }
      case 'add': {
        const taken = () => new Error(`user "${name}" already exists in ${path} (use passwd)`);
        if (store.lookup(name)) throw taken();
        if (health.state === 'absent') note(`${path} does not exist yet: creating it${source === EMBEDDED_SOURCE ? " (no configuration found: the embedded default's ./var/smbpasswd)" : ''}`);
        const ntHash = ntowfv1(await readNewPassword(args.passwordStdin));
        try {
          await store.update((ed) => {
            if (ed.get(name)) throw taken();
            const uid = Math.max(FIRST_UID - 1, ...ed.list().map((e) => e.uid)) + 1;
            ed.put({ name, uid, ntHash, hasLmHash: false, flags: new Set(['U']), lastChange: Math.floor(Date.now() / 1000) });
          });
        } finally {
          ntHash.fill(0);
        }
        say(`added user ${name} to ${path}`);
        await audit('user-add', 'done');
        return 0;
      }
      case 'passwd': {
        mustExist(store.lookup(name));
        const ntHash = ntowfv1(await readNewPassword(args.passwordStdin));
        try {
          await store.update((ed) => {
            const e = mustExist(ed.get(name));
            const flags = new Set(e.flags);
            flags.delete('N'); // a password is set now
            ed.put({ ...e, ntHash, hasLmHash: false, flags, lastChange: Math.floor(Date.now() / 1000) });
          });
        } finally {
          ntHash.fill(0);
        }
        say(`password changed for ${name} in ${path}`);
        await audit('user-passwd', 'done');
        return 0;
      }
      case 'del': {
        mustExist(store.lookup(name));
        await store.update((ed) => ed.delete(mustExist(ed.get(name)).name));
        say(`deleted user ${name} from ${path}`);
        await audit('user-del', 'done');
        return 0;
      }
      default: {
        // lock, unlock, disable, enable: parseArgs lets no other action through
        const change = FLAG_ACTIONS[args.action]!;
        mustExist(store.lookup(name));
        const changed = await store.update((ed) => {
          const e = mustExist(ed.get(name));
          if (e.flags.has(change.flag) === change.on) return false;
          const flags = new Set(e.flags);
          if (change.on) flags.add(change.flag);
          else flags.delete(change.flag);
          ed.put({ ...e, flags });
          return true;
        });
        say(changed ? `${change.done} ${name} in ${path}` : `${name} ${change.already} in ${path}`);
        let lockout = false;
        if (args.action === 'unlock') {
          // The lockout of the name too (all lines), in the state file a running daemon follows.
          makeFolders(config.stateDirectory);
          const hit = await clearInFile(statePath(config.stateDirectory), { what: 'account', key: accountKey(name) }, who);
          lockout = hit.accounts.some((a) => a.until !== undefined);
          say(lockout ? `ended the lockout of ${name}` : `${name} was not locked out (a running rasgate clears what it holds within a second)`);
        }
        await audit(`user-${args.action}` as OperatorAction, changed || lockout ? 'done' : 'unchanged');
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`rasgate user: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof Interrupted) {
      process.stderr.write(`rasgate user: ${err.message}; nothing changed\n`);
      return 130;
    }
    process.stderr.write(`rasgate user: ${(err as Error).message}\n`);
    return 1;
  }
}
