/** Lines out of service: a damaged file does not stop the gateway, a write that fails changes nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import { OperatorError } from '../../src/gateway/operator.js';
import { loadOutOfService, outOfServicePath } from '../../src/gateway/out-of-service.js';
import { nullLogger } from '../../src/logging.js';
import { Caller } from '../e2e/harness.js';
import type { Operator } from '../../src/audit/index.js';

const BOB: Operator = { by: 'bob', via: 'cli' };

async function gateway(dir: string) {
  const loaded = parseConfig(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./smbpasswd }\nshutdown: { grace: 1 }\n`, 'oos.yaml', dir);
  const gw = new Gateway({ loaded: { config: loaded.config!, source: 'oos.yaml', baseDir: dir }, logger: nullLogger() });
  await gw.start();
  return { gw, port: gw.port('tcp0')! };
}

test('a damaged file: every line answers, and the next operator action writes a good one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-oos-'));
  try {
    mkdirSync(join(dir, 'var'), { mode: 0o700 });
    writeFileSync(outOfServicePath(join(dir, 'var')), '{"lines": [1, 2');
    assert.match(loadOutOfService(join(dir, 'var')).problem ?? '', /not JSON/);
    const { gw, port } = await gateway(dir);
    try {
      const c = new Caller(port);
      await c.expect(/login: $/);
      c.close();
      assert.equal(gw.setLineOutOfService('tcp0', true, BOB, 'test').changed, true);
      assert.equal(loadOutOfService(join(dir, 'var')).lines.get('tcp0')?.by, 'bob');
      assert.throws(() => gw.setLineOutOfService('nope', true, BOB), (e: unknown) => e instanceof OperatorError && e.code === 'NO_SUCH_LINE');
    } finally {
      await gw.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write that fails refuses the change: the line keeps answering', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-oos-'));
  try {
    // A folder where the file goes: the rename fails whoever we are (root included).
    mkdirSync(join(dir, 'var'), { mode: 0o700 });
    mkdirSync(outOfServicePath(join(dir, 'var')));
    const { gw, port } = await gateway(dir);
    try {
      assert.throws(() => gw.setLineOutOfService('tcp0', true, BOB), (e: unknown) => e instanceof OperatorError && e.code === 'STATE_WRITE_FAILED' && /nothing changed/.test(e.message));
      assert.equal(gw.statusReport().lines[0]!.outOfService, undefined);
      const c = new Caller(port);
      await c.expect(/login: $/);
      c.close();
    } finally {
      await gw.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
