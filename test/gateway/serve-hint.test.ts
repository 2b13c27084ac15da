import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstStartHint } from '../../src/cli/commands/serve.js';
import { loadConfig, parseConfig } from '../../src/gateway/config.js';

test('first start with the embedded default: exactly how to add an account and how to call in', () => {
  const loaded = loadConfig({ cwd: '/nonexistent-dir-for-rasgate', env: {} });
  const hint = firstStartHint(loaded, '/x/var/smbpasswd');
  assert.match(hint, /\n {4}npx rasgate user add NAME\n/);
  assert.match(hint, /\n {4}telnet 127\.0\.0\.1 2323\n/);
});

test('first start with a file: the hint names the file, and the simulated modem caller', () => {
  const { config } = parseConfig('lines:\n  - { listen: tcp://127.0.0.1:2424 }\n  - { device: "sim://d?far=tcp://127.0.0.1:2425" }\n', '/etc/rasgate/r.yaml', '/etc/rasgate');
  const hint = firstStartHint({ config: config!, source: '/etc/rasgate/r.yaml', baseDir: '/etc/rasgate' }, '/etc/rasgate/var/smbpasswd');
  assert.match(hint, /npx rasgate user add NAME --config \/etc\/rasgate\/r\.yaml/);
  assert.match(hint, /telnet 127\.0\.0\.1 2424/);
  assert.match(hint, /scripts\/sim-caller\.ts --to tcp:\/\/127\.0\.0\.1:2425/);
});
