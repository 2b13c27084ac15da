import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, EMBEDDED_DEFAULT, formatIssue, findConfigPath, loadConfig, EMBEDDED_SOURCE, configRows, ConfigError, hostIssues } from '../../src/gateway/config.js';

const issuesOf = (yaml: string) => parseConfig(yaml, 'test.yaml', '/etc/rasgate').issues.map(formatIssue);
const valid = (yaml: string) => {
  const r = parseConfig(yaml, 'test.yaml', '/etc/rasgate');
  assert.deepEqual(r.issues.map(formatIssue), []);
  return r.config!;
};

// One row per mistake: the YAML (under a valid base) and the exact message expected.
const CASES: [string, string, string][] = [
  ['bad tcp url', 'lines: [{ listen: "tcp:/127.0.0.1:2323" }]', 'lines[0].listen: "tcp:/127.0.0.1:2323" is not tcp://HOST:PORT (hint: tcp://127.0.0.1:2323)'],
  ['url without scheme', 'lines: [{ listen: "127.0.0.1:23" }]', 'lines[0].listen: "127.0.0.1:23" is not tcp://HOST:PORT (hint: tcp://127.0.0.1:23)'],
  ['port out of range', 'lines: [{ listen: "tcp://127.0.0.1:70000" }]', 'lines[0].listen: "tcp://127.0.0.1:70000" is not tcp://HOST:PORT (hint: tcp://127.0.0.1:2323)'],
  ['typo key', 'lines: [{ listen: tcp://127.0.0.1:1, mdoe: raw }]', 'lines[0].mdoe: unknown key (hint: did you mean "mode"?)'],
  ['unknown top key', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nauthorty: {}', 'authorty: unknown key (hint: did you mean "authority"?)'],
  ['no kind', 'lines: [{ id: x }]', 'lines[0]: needs listen: or device: (hint: listen: tcp://127.0.0.1:2323)'],
  ['two kinds', 'lines: [{ listen: tcp://127.0.0.1:1, device: /dev/ttyS0 }]', 'lines[0]: has listen and device: a line is exactly one kind'],
  ['relative device', 'lines: [{ device: ttyS0 }]', 'lines[0].device: "ttyS0" is not an absolute device path (hint: /dev/ttyS0)'],
  ['bad sim far side', 'lines: [{ device: "sim://demo?far=127.0.0.1:2424" }]', 'lines[0].device: "127.0.0.1:2424" (far side) is not tcp://HOST:PORT (hint: sim://demo?far=tcp://127.0.0.1:2424)'],
  ['bad sim dial plan entry', 'lines: [{ device: "sim://demo?dial=5551234" }]', 'lines[0].device: "5551234" (dial plan entry) is not NUMBER=tcp://HOST:PORT (hint: sim://demo?far=tcp://127.0.0.1:2424)'],
  ['unknown sim parameter', 'lines: [{ device: "sim://demo?fra=tcp://127.0.0.1:2424" }]', 'lines[0].device: "fra" is not a sim:// parameter (far, dial, dialtone) (hint: sim://demo?far=tcp://127.0.0.1:2424)'],
  ['tcp key on a device line', 'lines: [{ device: /dev/ttyS0, mode: raw }]', 'lines[0].mode: applies to TCP lines (listen:) only'],
  ['not an AT command', 'lines: [{ device: /dev/ttyS0, modem: { init: [ATZ, E0] } }]', 'lines[0].modem.init[1]: "E0" is not an AT command'],
  ['ldap typo', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nauthority: { type: ldap, servers: [ldap://dc1], bindDN: x }', 'authority.bindDN: unknown key for type ldap (hint: did you mean "bindDn"?)'],
  ['ldap server url', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nauthority: { type: ldap, servers: [http://dc1] }', 'authority.servers[0]: "http://dc1": scheme must be ldap:// or ldaps://'],
  ['ldap group needs a service account', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nauthority: { type: ldap, servers: [ldap://dc1], requiredGroup: Dialin }', 'authority.requiredGroup: needs bindDn (a service account to read group membership)'],
  ['denied reason typo', 'lines: [{ listen: tcp://127.0.0.1:1 }]\ndialogue: { messages: { deniedReasons: { account-lock: x } } }', 'dialogue.messages.deniedReasons.account-lock: unknown key (known: bad-credentials, account-disabled, account-locked, account-expired, password-expired, password-must-change, logon-hours, workstation-restricted, no-dialin-permission, not-member) (hint: did you mean "account-locked"?)'],
  ['quoted number', 'lines: [{ device: /dev/ttyS0, baudRate: "9600" }]', 'lines[0].baudRate: "9600" is not a number (hint: write 9600 without quotes)'],
  ['bad data bits', 'lines: [{ device: /dev/ttyS0, dataBits: 9 }]', 'lines[0].dataBits: 9 is not one of 5, 6, 7, 8'],
  ['rings range', 'lines: [{ device: /dev/ttyS0, modem: { answerOnRing: 0 } }]', 'lines[0].modem.answerOnRing: 0 is below the minimum 1'],
  ['yes is not boolean', 'lines: [{ device: /dev/ttyS0, rtscts: yes }]', 'lines[0].rtscts: "yes" is not true or false (hint: write true (YAML 1.2 reads "yes" as a string))'],
  ['unknown action name', 'lines: [{ listen: tcp://127.0.0.1:1, action: shel }]\nactions: { shell: { exec: [/bin/sh] } }', 'lines[0].action: "shel" is neither hangup nor a name in actions: (hint: did you mean "shell"?)'],
  ['action without kind', 'lines: [{ listen: tcp://127.0.0.1:1, action: { run: x } }]', 'lines[0].action: an action needs `bridge:` or `exec:` (hint: `hangup`, `{ bridge: tcp://HOST:PORT }`, `{ exec: [PROGRAM, ARGS...] }` or the name of an entry in `actions`)'],
  ['empty exec', 'lines: [{ listen: tcp://127.0.0.1:1, action: { exec: [] } }]', 'lines[0].action.exec: needs at least 1 item'],
  ['exec not a list', 'lines: [{ listen: tcp://127.0.0.1:1, action: { exec: /bin/sh } }]', 'lines[0].action.exec: "/bin/sh" is not a list (hint: ["/bin/sh"])'],
  ['bad bridge', 'lines: [{ listen: tcp://127.0.0.1:1, action: { bridge: "localhost:7" } }]', 'lines[0].action.bridge: "localhost:7" is not tcp://HOST:PORT (hint: tcp://localhost:7)'],
  ['ppp exec needs exec', 'lines: [{ listen: tcp://127.0.0.1:1, ppp: exec }]', 'lines[0].ppp: `exec` needs an exec action on the line (hint: action: { exec: [/usr/sbin/pppd, ...] })'],
  ['duplicate id', 'lines: [{ listen: tcp://127.0.0.1:1, id: a }, { listen: tcp://127.0.0.1:2, id: a }]', 'lines[1].id: "a" is also lines[0] (hint: give every line its own id)'],
  ['duplicate listen', 'lines: [{ listen: tcp://127.0.0.1:1 }, { listen: tcp://127.0.0.1:1 }]', 'lines[1]: listens on 127.0.0.1:1 like lines[0]'],
  ['duplicate device', 'lines: [{ device: /dev/ttyS0 }, { device: /dev/ttyS0 }]', 'lines[1].device: "/dev/ttyS0" is also lines[0]: one line per device'],
  ['duplicate simulated modem', 'lines: [{ device: sim://a }, { device: "sim://a?far=tcp://127.0.0.1:9" }]', 'lines[1].device: "sim://a" is also lines[0]: one line per device'],
  ['authority type', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nauthority: { type: ldpa }', 'authority.type: "ldpa" is not one of local, ldap, winbind (hint: did you mean "ldap"?)'],
  ['local domain too long', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nauthority: { domain: ABCDEFGHIJKLMNOPQ }', 'authority.domain: must be 1 to 15 characters'],
  ['log level', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nlog: { level: verbose }', 'log.level: "verbose" is not one of error, warn, info, debug'],
  ['log module', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nlog: { modules: { cal: debug } }', 'log.modules.cal: unknown key (known: gateway, line, call, dialogue, ntlm, authority, action, console, inspector, audit, guard) (hint: did you mean "call"?)'],
  ['log file path', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nlog: { file: { maxFiles: 3d } }', 'log.file.path: is required (file name; `%DATE%` is replaced by the date (daily rotation))'],
  ['grace', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nshutdown: { grace: -1 }', 'shutdown.grace: -1 is below the minimum 0'],
  ['attempts', 'lines: [{ listen: tcp://127.0.0.1:1 }]\ndialogue: { maxAttempts: 2.5 }', 'dialogue.maxAttempts: 2.5 is not a whole number (hint: 3)'],
  ['no lines', 'authority: { type: local }', 'lines: is required: at least one line (hint: lines: [{ listen: tcp://127.0.0.1:2323 }])'],
  ['empty lines', 'lines: []', 'lines: needs at least 1 item'],
  ['duplicate yaml key', 'lines: [{ listen: tcp://127.0.0.1:1 }]\nlog: {}\nlog: {}', 'test.yaml:3:1: YAML: Map keys must be unique'],
];

for (const [name, yaml, expected] of CASES) {
  test(`config error: ${name}`, () => {
    assert.ok(issuesOf(yaml).includes(expected), `expected\n  ${expected}\ngot\n  ${issuesOf(yaml).join('\n  ')}`);
  });
}

test('every problem of a file is reported at once', () => {
  const all = issuesOf('lines:\n  - listen: "tcp:/x:1"\n    mdoe: 1\n  - device: /dev/ttyS0\n    parity: marks\nlog: { level: loud }\n');
  assert.equal(all.length, 4, all.join('\n'));
});

test('embedded default: one telnet TCP line on 127.0.0.1:2323, local authority in ./var, console on 127.0.0.1:8023', () => {
  const c = parseConfig(EMBEDDED_DEFAULT, EMBEDDED_SOURCE, '/srv/x').config!;
  assert.equal(c.lines.length, 1);
  const l = c.lines[0]!;
  assert.equal(l.kind, 'tcp');
  assert.deepEqual(l.kind === 'tcp' && l.listen, { host: '127.0.0.1', port: 2323 });
  assert.equal(l.kind === 'tcp' && l.mode, 'telnet');
  assert.deepEqual(c.authority, { type: 'local', file: '/srv/x/var/smbpasswd', policyFile: '/srv/x/var/user-policy.yaml', allowNtlmV1: false });
  assert.deepEqual(c.console, { listen: { host: '127.0.0.1', port: 8023 }, enabled: true, signIn: true, requireGroup: [], allowedHosts: [] });
  assert.equal(c.shutdown.grace, 30);
  assert.equal(c.dialogue.maxAttempts, 3);
});

test('defaults, ids by position, named actions, simulated shorthand, ipv6', () => {
  const c = valid(`
lines:
  - listen: tcp://[::1]:2323
    action: shell
  - device: /dev/serial/by-id/usb-modem
    dataBits: 7
    stopBits: 2
  - device: sim://demo?far=tcp://127.0.0.1:2424&dial=5551234=tcp://127.0.0.1:6400&dialtone=on
  - listen: tcp://127.0.0.1:2324
    action: { bridge: tcp://127.0.0.1:7 }
actions:
  shell: { exec: [/bin/sh, -i], cwd: run }
`);
  assert.deepEqual(c.lines.map((l) => l.id), ['tcp0', 'dev0', 'sim0', 'tcp1']);
  const [a, b, s, d] = c.lines;
  assert.deepEqual(a!.kind === 'tcp' && a!.listen, { host: '::1', port: 2323 });
  assert.deepEqual(a!.action, { kind: 'exec', argv: ['/bin/sh', '-i'], killGrace: 5, cwd: '/etc/rasgate/run', env: {} });
  assert.ok(b!.kind === 'device');
  if (b!.kind === 'device') {
    assert.equal(b!.dataBits, 7);
    assert.equal(b!.stopBits, 2);
    assert.deepEqual(b!.modem.init, ['ATZ', 'ATE0V1Q0&C1&D2S0=0']);
  }
  assert.ok(s!.kind === 'device' && s!.simulated);
  if (s!.kind === 'device' && s!.simulated) {
    assert.equal(s!.simulated.name, 'demo');
    assert.deepEqual(s!.simulated.far, { host: '127.0.0.1', port: 2424 });
    assert.deepEqual([...s!.simulated.dialPlan], [['5551234', { host: '127.0.0.1', port: 6400 }]]);
  }
  assert.deepEqual(d!.action, { kind: 'bridge', target: { host: '127.0.0.1', port: 7 }, connectTimeout: 10 });
});

test('lookup: --config, then $RASGATE_CONFIG, then ./rasgate.yaml, else the embedded default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-cfg-'));
  assert.equal(findConfigPath({ cwd: dir, env: {} }), undefined);
  assert.equal(loadConfig({ cwd: dir, env: {} }).source, EMBEDDED_SOURCE);
  writeFileSync(join(dir, 'rasgate.yaml'), 'lines: [{ listen: tcp://127.0.0.1:9 }]\n');
  assert.equal(findConfigPath({ cwd: dir, env: {} }), join(dir, 'rasgate.yaml'));
  assert.equal(findConfigPath({ cwd: dir, env: { RASGATE_CONFIG: 'other.yaml' } }), join(dir, 'other.yaml'));
  assert.equal(findConfigPath({ cwd: dir, env: { RASGATE_CONFIG: 'other.yaml' }, path: '/x.yaml' }), '/x.yaml');
  assert.throws(() => loadConfig({ cwd: dir, env: { RASGATE_CONFIG: 'other.yaml' } }), (e: unknown) => e instanceof ConfigError && /no such file/.test(e.message));
});

test('every documented key has a type, a default column and a meaning', () => {
  const rows = configRows();
  for (const key of ['lines[].listen', 'lines[].action', 'lines[].modem.answerOnRing', 'authority.file', 'dialogue.userPrompt', 'log.file.path', 'console.listen', 'shutdown.grace']) {
    assert.ok(rows.some((r) => r.key === key), key);
  }
  for (const r of rows) assert.ok(r.type && r.default && r.doc, JSON.stringify(r));
});

test('every complete configuration example in the docs is valid', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const docs = join(import.meta.dirname, '../../docs');
  let checked = 0;
  for (const f of readdirSync(docs).filter((n) => n.endsWith('.md'))) {
    const text = readFileSync(join(docs, f), 'utf8');
    for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      if (!/^lines:/m.test(m[1]!)) continue; // fragments (one section) are not whole files
      assert.deepEqual(parseConfig(m[1]!, `${f} example`, '/srv').issues.map(formatIssue), [], `${f}:\n${m[1]}`);
      checked++;
    }
  }
  assert.ok(checked >= 2, `only ${checked} examples found`);
});

test('config error found on the host (check-config and serve): an ldap password file that cannot be read', () => {
  const { config } = parseConfig('lines: [{ listen: tcp://127.0.0.1:1 }]\nauthority: { type: ldap, servers: [ldap://dc1], bindDn: svc, bindPasswordFile: ./nope }', '/etc/rasgate/r.yaml', '/etc/rasgate');
  assert.deepEqual(hostIssues(config!).map(formatIssue), ["authority.bindPasswordFile: cannot be read: ENOENT: no such file or directory, open '/etc/rasgate/nope'"]);
});

test('YAML aliases: an unresolved one and an alias bomb are issues, never an exception (found by npm run fuzz -- --target config)', () => {
  // ': *a\n\0:' is the fuzzer's minimal input: the yaml package reports the unresolved alias only from toJS().
  for (const yaml of [': *a\n\0:', 'lines:\n  - {*ppp}\n', `a: &a [x, x]\nb: &b [${'*a, '.repeat(9)}*a]\nc: &c [${'*b, '.repeat(9)}*b]\nd: [${'*c, '.repeat(9)}*c]\n`]) {
    const r = parseConfig(yaml, 'test.yaml', '/etc/rasgate');
    assert.equal(r.config, undefined, yaml);
    assert.ok(r.issues.length > 0 && r.issues.every((i) => i.path.startsWith('test.yaml') && /^YAML: /.test(i.message)), JSON.stringify(r.issues));
  }
});

test('a document that overflows the YAML parser\'s stack is an issue, never an exception (found by npm run fuzz -- --target config)', () => {
  // Inside an unclosed flow mapping, "key: value" pairs without commas nest one parser frame each.
  const r = parseConfig(`lines:\n  - { listen: tcp://127.0.0.1:24${'ace: 1 '.repeat(3000)}\n`, 'test.yaml', '/etc/rasgate');
  assert.equal(r.config, undefined);
  assert.ok(r.issues.length > 0 && r.issues.every((i) => i.path.startsWith('test.yaml') && /^YAML: /.test(i.message)), JSON.stringify(r.issues));
});
