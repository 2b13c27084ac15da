import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { waitFor } from '../helpers/net.js';
import { Caller, startGateway, tempDir } from './harness.js';

const tmp = tempDir();
after(() => tmp.remove());

const PASSWORD = 'Correct-Horse-7!';
const WRONG = 'Wrong-Battery-9?';

function secretsOf(pw: string): string[] {
  const nt = ntowfv1(pw).toString('hex');
  return [pw, nt, nt.toUpperCase(), Buffer.from(pw).toString('base64'), Buffer.from(pw, 'utf16le').toString('hex'), Buffer.from(pw, 'utf16le').toString('base64')];
}

test('a whole call at debug level leaves no password, NT hash or NTLM token in stdout, the log file or the inspector', async () => {
  const gw = await startGateway(
    `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: telnet }]\nauthority: { file: ./smbpasswd }\ndialogue: { failureDelaysSeconds: [0] }\nlog: { level: debug, modules: { ntlm: debug, authority: debug, dialogue: debug, call: debug }, file: { path: ./log/rasgate-%DATE%.log } }\nshutdown: { grace: 1 }\n`,
    { dir: tmp.dir, users: [['ivan', PASSWORD]], args: ['--inspect=0'] },
  );
  const relay = await gw.waitLog((l) => l.message === 'inspector relay listening', 'the inspector relay');
  const viewed: string[] = [];
  // A viewer as the relay's own page opens it (same Origin): every frame it is sent is kept.
  const viewer = new WebSocket(`ws://127.0.0.1:${Number(relay.port)}/`, { origin: `http://127.0.0.1:${Number(relay.port)}` });
  viewer.on('message', (data) => viewed.push(String(data)));
  await new Promise((resolve, reject) => {
    viewer.once('open', resolve);
    viewer.once('error', reject);
  });
  try {
    const c = new Caller(gw.port('tcp0'));
    await c.login('ivan', WRONG);
    await c.expect(/Login incorrect/);
    await c.expect(/login: $/);
    c.type('nosuchuser\r');
    await c.expect(/Password: $/);
    c.type(`${PASSWORD}\r`);
    await c.expect(/Login incorrect/);
    await c.expect(/login: $/);
    c.type('ivan\r');
    await c.expect(/Password: $/);
    c.type(`${PASSWORD}\r`);
    await c.waitClosed();
    assert.ok(!c.text.includes(PASSWORD), 'the password was echoed');
    await gw.waitLog((l) => l.message === 'call summary' && l.outcome === 'accepted', 'summary');
    await waitFor(() => viewed.some((v) => v.includes('"done"')), 'inspector events', 5000);
  } finally {
    viewer.close();
    assert.equal((await gw.stop()).code, 0);
  }
  const files = readdirSync(join(tmp.dir, 'log')).filter((f) => f.endsWith('.log'));
  assert.equal(files.length, 1, 'one daily log file');
  const fileText = readFileSync(join(tmp.dir, 'log', files[0]!), 'utf8');
  const outputs: Record<string, string> = { stdout: gw.stdout.join('\n'), stderr: gw.stderr.join('\n'), file: fileText, inspector: viewed.join('\n') };
  assert.ok(fileText.includes('"message":"transition"'), 'the file has the transitions too');
  for (const [where, text] of Object.entries(outputs)) {
    for (const secret of [...secretsOf(PASSWORD), ...secretsOf(WRONG)]) assert.ok(!text.includes(secret), `${where} contains ${secret}`);
    assert.doesNotMatch(text, /TlRMTVNTUA|4e544c4d53535000/i, `${where} contains an NTLM token`);
  }
  // The logs are still useful: transitions with ids, and the summaries.
  const logs = gw.logs;
  assert.ok(logs.some((l) => l.message === 'transition' && l.machine === 'dialogue' && l.line === 'tcp0' && typeof l.call === 'string' && l.from === 'session.password' && l.to === 'session.verifying' && l.event === 'PASSWORD'));
  // (the call looks up the user's callback policy between securing and farewell)
  assert.ok(logs.some((l) => l.message === 'transition' && l.machine === 'call' && l.from === 'securing'));
  assert.ok(logs.some((l) => l.message === 'transition' && l.machine === 'call' && l.to === 'farewell'));
  // The NTLM legs of the call are transitions too, with the call's ids.
  assert.ok(logs.some((l) => l.message === 'transition' && l.machine === 'ntlmAccept' && l.line === 'tcp0' && typeof l.call === 'string' && l.to === 'challengeSent'));
  assert.ok(logs.some((l) => l.message === 'transition' && l.machine === 'ntlmAccept' && l.call && (l.to === 'established' || l.to === 'failed')));
  assert.ok(logs.some((l) => l.message === 'credentials refused' && l.level === 'warn'));
  assert.ok(viewed.some((v) => v.includes('"password":"[redacted]"')), 'the inspector saw the PASSWORD event, redacted');
});

test('under systemd (JOURNAL_STREAM set) stdout lines carry the syslog priority prefix', async () => {
  const gw = await startGateway(`lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./j-smbpasswd }\ndialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }\n`, { dir: tmp.dir, name: 'j.yaml', env: { JOURNAL_STREAM: '8:12345' }, waitStarted: false });
  try {
    await waitFor(() => gw.stdout.some((l) => l.includes('gateway started')), 'start', 15000);
    const c = new Caller(gw.port('tcp0'));
    await c.login('nobody', 'x');
    await c.waitClosed();
    await waitFor(() => gw.stdout.some((l) => l.includes('call summary')), 'summary');
  } finally {
    await gw.stop();
  }
  assert.ok(gw.stdout.some((l) => /^<6>\{.*"message":"gateway started"/.test(l)));
  assert.ok(gw.stdout.some((l) => /^<4>\{.*"message":"call summary"/.test(l)), 'a failed login is warn = <4>');
});
