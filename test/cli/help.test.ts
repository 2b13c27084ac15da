/** Every command explains its options with --help (exit 0, on stdout), and `rasgate --help` lists them all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rasgate } from '../helpers/cli.js';

const COMMANDS: Array<[string[], RegExp[]]> = [
  [['serve'], [/--config FILE/, /--inspect\[=PORT\]/, /SIGHUP/]],
  [['user'], [/add NAME/, /--password-stdin/, /--config FILE/]],
  [['check-config'], [/every problem/, /Exit status/]],
  [['machines'], [/--format mermaid\|json/]],
  [['ntlm'], [/--json/, /base64, hex/]],
  [['ntlm', 'decode'], [/--json/, /Exit status: 0 decoded/]],
  [['status'], [/--json/, /--socket PATH/, /Exit status/]],
  [['line'], [/disable ID/, /enable ID/, /--reason TEXT/, /restarts/]],
  [['hangup'], [/CALL/, /operator-hangup/]],
  [['auth'], [/test USER/, /--domain D/, /--password-stdin/, /raserror/]],
];

for (const [args, expected] of COMMANDS) {
  test(`rasgate ${args.join(' ')} --help`, () => {
    const r = rasgate([...args, '--help']);
    assert.equal(r.code, 0, r.err);
    for (const re of expected) assert.match(r.out, re);
  });
}

test('rasgate --help lists every command, and rasgate help CMD is CMD --help', () => {
  const r = rasgate(['--help']);
  assert.equal(r.code, 0);
  for (const name of ['serve', 'user', 'check-config', 'machines', 'ntlm', 'status', 'line', 'hangup', 'auth']) assert.match(r.out, new RegExp(`rasgate ${name} `));
  const h = rasgate(['help', 'line']);
  assert.equal(h.code, 0);
  assert.match(h.out, /--reason TEXT/);
});

test('bad usage exits 2 with the usage', () => {
  for (const args of [['line', 'reboot', 'tcp0'], ['hangup'], ['auth', 'test'], ['status', '--bogus']]) {
    const r = rasgate(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /usage: rasgate/);
  }
});
