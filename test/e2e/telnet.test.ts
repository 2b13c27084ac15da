import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { needs, toolPath } from '../helpers/tools.js';
import { startGateway, tempDir } from './harness.js';

const tmp = tempDir();
after(() => tmp.remove());

test('the quick start path: Debian telnet logs in; the password is not echoed', { skip: needs('telnet') }, async () => {
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0 }]\nauthority: { file: ./smbpasswd }\ndialogue: { messages: { success: "Welcome aboard" } }\nshutdown: { grace: 1 }\n`, { dir: tmp.dir, users: [['mia', 'Mia-pw-0']] });
  try {
    const telnet = spawn(toolPath('telnet'), ['127.0.0.1', String(gw.port('tcp0'))], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    telnet.stdout.setEncoding('latin1');
    telnet.stdout.on('data', (d: string) => {
      out += d;
      if (/login: $/.test(out)) telnet.stdin.write('mia\r\n');
      else if (/Password: $/.test(out)) telnet.stdin.write('Mia-pw-0\r\n');
    });
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => telnet.kill(), 15_000);
      telnet.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    assert.match(out, /login: mia\r\nPassword: \r\nWelcome aboard\r\n/);
    assert.ok(!out.includes('Mia-pw-0'), 'password echoed');
    assert.notEqual(code, null);
    const s = await gw.waitLog((l) => l.message === 'call summary', 'summary');
    assert.equal(s.outcome, 'accepted');
  } finally {
    assert.equal((await gw.stop()).code, 0);
  }
});
