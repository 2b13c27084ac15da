#!/usr/bin/env node
/**
 * The `rasgate` command. Each subcommand lives in src/cli/commands/<name>.ts and exports
 * `run(argv: string[]): Promise<number>` (the exit code); they are loaded lazily so that
 * `rasgate ntlm decode` does not pay for the gateway's start-up.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  serve: { summary: 'run the gateway  [--config FILE] [--inspect[=PORT]]', load: () => import('./commands/serve.js') },
  user: { summary: 'manage the local authority  add|passwd|del|list|lock|unlock|disable|enable NAME [--config FILE] [--password-stdin]; callback NAME --preset N|--caller-set|--none', load: () => import('./commands/user.js') },
  lockout: { summary: 'locked user names, penalised sources, paused lines  list [--json] | clear NAME|--source S|--line ID|--all [--config FILE]', load: () => import('./commands/lockout.js') },
  audit: { summary: 'read the audit trail  [--since T] [--until T] [--user U] [--line ID] [--source S] [--result KIND] [--json] [--config FILE]', load: () => import('./commands/audit.js') },
  'check-config': { summary: 'validate a configuration file  FILE', load: () => import('./commands/check-config.js') },
  machines: { summary: 'export the statecharts  [--format mermaid|json]', load: () => import('./commands/machines.js') },
  ntlm: { summary: 'NTLM tools  decode TOKEN (base64 or hex)', load: () => import('./commands/ntlm.js') },
  status: { summary: "the running daemon's lines, calls, lockouts  [--json]", load: () => import('./commands/status.js') },
  line: { summary: 'take a line out of service or back  disable|enable ID [--reason TEXT]', load: () => import('./commands/line.js') },
  hangup: { summary: 'hang up a call in progress  CALL', load: () => import('./commands/hangup.js') },
  auth: { summary: 'check a password through the authority  test USER [--domain D] [--password-stdin]', load: () => import('./commands/auth.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  rasgate ${name.padEnd(13)} ${c.summary}`);
  return `usage:\n${lines.join('\n')}\n\n\`rasgate COMMAND --help\` explains a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // `rasgate help CMD` is `rasgate CMD --help`.
    if (name === 'help' && rest[0] && COMMANDS[rest[0]]) return (await COMMANDS[rest[0]]!.load()).run(['--help']);
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
    process.stdout.write(`rasgate ${pkg.version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`rasgate: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  // `rasgate status | head`: the reader going away ends the command quietly. (serve handles its
  // own stdout: the log transport is dropped there and the daemon serves on.)
  if (name !== 'serve') {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`rasgate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
