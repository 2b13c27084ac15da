import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstStartHint, rasgateCommand } from '../../src/cli/commands/serve.js';
import { loadConfig, parseConfig } from '../../src/gateway/config.js';
import { ROOT } from '../helpers/cli.js';

test('first start with the embedded default: a command that works from any directory, the store path, how to call in', () => {
  const loaded = loadConfig({ cwd: '/nonexistent-dir-for-rasgate', env: {} });
  const hint = firstStartHint(loaded, '/x/var/smbpasswd', 'node /opt/rasgate/dist/src/cli/main.js');
  assert.match(hint, /\n {4}node \/opt\/rasgate\/dist\/src\/cli\/main\.js user add NAME\n/);
  assert.doesNotMatch(hint, /npx rasgate/, 'npx outside the repository would fetch from the registry');
  assert.match(hint, /It writes the account to \/x\/var\/smbpasswd\./);
  assert.match(hint, /\n {4}telnet 127\.0\.0\.1 2323\n/);
});

test('first start with a file: the hint names the file, and the simulated modem caller', () => {
  const { config } = parseConfig('lines:\n  - { listen: tcp://127.0.0.1:2424 }\n  - { device: "sim://d?far=tcp://127.0.0.1:2425" }\n', '/etc/rasgate/r.yaml', '/etc/rasgate');
  const hint = firstStartHint({ config: config!, source: '/etc/rasgate/r.yaml', baseDir: '/etc/rasgate' }, '/etc/rasgate/var/smbpasswd', 'node /opt/rasgate/dist/src/cli/main.js');
  assert.match(hint, /main\.js user add NAME --config \/etc\/rasgate\/r\.yaml/);
  assert.match(hint, /telnet 127\.0\.0\.1 2424/);
  assert.match(hint, /scripts\/sim-caller\.ts --to tcp:\/\/127\.0\.0\.1:2425/);
});

test('the printed command runs from another directory', () => {
  const command = rasgateCommand(ROOT);
  const elsewhere = mkdtempSync(join(tmpdir(), 'rasgate-hint-'));
  try {
    const r = spawnSync('sh', ['-c', `${command} --version`], { cwd: elsewhere, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, /^rasgate \d+\.\d+\.\d+/);
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
