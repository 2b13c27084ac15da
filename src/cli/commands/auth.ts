/**
 * `rasgate auth test USER [--domain D] [--password-stdin]`: check a user name and password
 * through the running daemon's authority exactly as a line would (our NTLM client against the
 * acceptor), without dialling in, as radtest and ntlm_auth do. Prints the outcome kind and the
 * raserror a caller would get. The password goes over the control socket (a local unix
 * socket) and is never logged.
 */
import type { AuthTestResult } from '../../gateway/operator.js';
import { printable } from '../../observe/pretty.js';
import { PWLEN } from '../../ras/codes.js';
import { SOCKET_OPTIONS, UsageError, ask, parseCommon, withUsage } from '../operator.js';
import { Interrupted, promptHidden, readStdinLine, withRawTerminal } from './user.js';

const USAGE = `usage: rasgate auth test USER [--domain D] [--password-stdin] [--config FILE | --socket PATH]
  Check USER's password through the running daemon's authority, as a caller's login would be
  checked, and print the outcome kind (accepted, bad-credentials, policy, outage, ...) and the
  raserror a caller would get.
  USER                    as typed at the login prompt: NAME, DOMAIN\\NAME or NAME@DOMAIN
  --domain D              the domain (then USER is taken whole); default: as the dialogue
                          splits USER, else dialogue.defaultDomain
  --password-stdin        read the password from the first line of standard input
                          (default: prompt on the terminal without echo)
${SOCKET_OPTIONS}
  Exit status: 0 accepted, 1 not accepted (or refused), 2 bad usage, 3 no daemon reachable.
`;

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readStdinLine();
  if (!process.stdin.isTTY) throw new UsageError('standard input is not a terminal: pass --password-stdin to read the password from it');
  return withRawTerminal(() => promptHidden('Password: '));
}

export function formatAuthTest(r: AuthTestResult): string {
  const who = printable(r.domain ? `${r.domain}\\${r.user}` : r.user);
  const code = r.rasError ? `raserror ${r.rasError}${r.rasErrorName ? ` ${r.rasErrorName}` : ''}` : 'raserror 0';
  return `${r.outcome}: ${who} (${code}${r.reason ? `, ${printable(r.reason)}` : ''}) in ${r.ms} ms\n`;
}

export async function run(argv: string[]): Promise<number> {
  return withUsage('rasgate auth', USAGE, argv, async () => {
    const args = parseCommon(argv, { flags: ['--password-stdin'], valued: ['--domain'] });
    const [sub, user, extra] = args.rest;
    if (sub !== 'test') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (test)');
    if (!user) throw new UsageError('missing USER');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    let password: string;
    try {
      password = await readPassword(args.flags.has('--password-stdin'));
    } catch (err) {
      if (err instanceof Interrupted) {
        process.stderr.write(`rasgate auth: ${err.message}\n`);
        return 130;
      }
      throw err;
    }
    if (password.length > PWLEN) throw new UsageError(`a password is at most ${PWLEN} characters`);
    const domain = args.values.get('--domain');
    const r = await ask('rasgate auth', args, { op: 'auth-test', user, password, ...(domain !== undefined ? { domain } : {}) });
    if ('exit' in r) return r.exit;
    const result = r.result as AuthTestResult;
    process.stdout.write(formatAuthTest(result));
    return result.outcome === 'accepted' ? 0 : 1;
  });
}
