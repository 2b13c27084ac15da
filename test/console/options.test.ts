/**
 * console options as check-config reports them: beyond loopback the console needs TLS and
 * sign-in (the message names the keys), the certificate files must be readable, requireGroup
 * takes one name or a list.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from '../../src/gateway/config/schema.js';
import { formatIssue } from '../../src/options/fields.js';
import { rasgate } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { testCertificate } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-console-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LINE = 'lines: [{ listen: tcp://127.0.0.1:2323 }]\n';

const issues = (yaml: Record<string, unknown>) => validate({ lines: [{ listen: 'tcp://127.0.0.1:2323' }], ...yaml }).issues.list.map(formatIssue);

test('beyond loopback: TLS and sign-in, said with the key names', () => {
  assert.deepEqual(issues({ console: { enabled: true } }), []);
  const [plain] = issues({ console: { enabled: true, listen: 'tcp://0.0.0.0:8023' } });
  assert.match(plain!, /^console\.listen: 0\.0\.0\.0 is not a loopback address: beyond loopback the console needs `console\.tls: \{ cert, key \}`/);
  assert.match(plain!, /hint: tls: \{ cert: /);
  const [noSignIn] = issues({ console: { enabled: true, listen: 'tcp://192.0.2.7:8023', signIn: false, tls: { cert: '/c', key: '/k' } } });
  assert.match(noSignIn!, /needs `console\.signIn: true`/);
  assert.deepEqual(issues({ console: { enabled: true, listen: 'tcp://0.0.0.0:8023', tls: { cert: '/c', key: '/k' } } }), []);
  assert.deepEqual(issues({ console: { tls: { cert: '/c' } } }), ['console.tls.key: is required (PEM private key file (keep it 0600))']);
});

test('requireGroup: one name or a list; allowedHosts a list', () => {
  const one = validate({ lines: [{ listen: 'tcp://127.0.0.1:2323' }], console: { requireGroup: 'Dialin-Admins' } });
  assert.deepEqual(one.config?.console.requireGroup, ['Dialin-Admins']);
  const many = validate({ lines: [{ listen: 'tcp://127.0.0.1:2323' }], console: { requireGroup: ['alice', 'S-1-5-21-1-2-3-512'], allowedHosts: ['gw.example.net'] } });
  assert.deepEqual(many.config?.console.requireGroup, ['alice', 'S-1-5-21-1-2-3-512']);
  assert.deepEqual(many.config?.console.allowedHosts, ['gw.example.net']);
  assert.equal(validate({ lines: [{ listen: 'tcp://127.0.0.1:2323' }] }).config?.console.signIn, true, 'sign-in by default');
  assert.match(issues({ console: { requireGroup: 7 } })[0]!, /^console\.requireGroup/);
});

test('check-config: a console beyond loopback without TLS is refused; unreadable certificate files are named', { skip: needs('openssl') }, () => {
  const bare = join(dir, 'bare.yaml');
  writeFileSync(bare, `${LINE}authority: { file: ./smbpasswd }\nconsole: { enabled: true, listen: tcp://0.0.0.0:8023 }\n`);
  const r = rasgate(['check-config', bare]);
  assert.equal(r.code, 1);
  assert.match(r.err, /console\.listen: 0\.0\.0\.0 is not a loopback address: beyond loopback the console needs `console\.tls: \{ cert, key \}`/);

  const cert = testCertificate(dir);
  const ok = join(dir, 'ok.yaml');
  writeFileSync(ok, `${LINE}authority: { file: ./smbpasswd }\nconsole: { enabled: true, listen: tcp://0.0.0.0:8023, tls: { cert: ./console.crt, key: ./console.key } }\n`);
  assert.equal(rasgate(['check-config', ok]).code, 0, 'relative to the configuration file');
  assert.ok(cert.certFile.startsWith(dir));

  const missing = join(dir, 'missing.yaml');
  writeFileSync(missing, `${LINE}authority: { file: ./smbpasswd }\nconsole: { enabled: true, tls: { cert: ./nope.crt, key: ./console.key } }\n`);
  const m = rasgate(['check-config', missing]);
  assert.equal(m.code, 1);
  assert.match(m.err, /console\.tls\.cert: cannot be read/);
});
