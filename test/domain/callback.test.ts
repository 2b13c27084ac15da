/**
 * Callback against a real Samba AD DC (scripts/samba-dc.sh, a DC of this file's own): alice is
 * given msRADIUSServiceType 4 (Callback-Framed) beside the msRADIUSCallbackNumber the fixture
 * stores, as the Dial-in tab's "Always Callback to" writes them; `rasgate serve` with the ldap
 * authority reads them through its service account and calls her back on a simulated-modem line
 * (the demo caller, scripts/sim-caller.ts, listens for the callback). nested gets the service
 * type alone (Set By Caller) and gives a number; bob has neither attribute and is not called back. Everything runs inside the DC's network namespace.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServeInDc, ldapAuthorityYaml, needsDc, startDc, stopDc, type DcInfo } from './dc.js';
import { waitFor } from '../helpers/net.js';

const skip = needsDc();
// RASGATE_DC_PREFIX: see test/domain/authorities.test.ts. A name of this file's own: no other DC shares it.
const NAME = `${process.env.RASGATE_DC_PREFIX ? `${process.env.RASGATE_DC_PREFIX}cb` : 'rgcb'}-${process.pid}`;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = resolve(root, 'scripts/samba-dc.sh');
const FAR = 2425;
const PHONE = 6400;

let dc: DcInfo;
let dir: string;
let gateway: ServeInDc | undefined;

/** Run in the DC's namespace; returns stdout (latin1) and the exit code. */
function inNs(args: string[], o: { timeout?: number; input?: string } = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync('bash', [script, 'exec', NAME, ...args], { cwd: root, encoding: 'latin1', timeout: o.timeout ?? 30_000, input: o.input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Set attributes the Dial-in tab writes, in the running DC's sam.ldb (as samba-tool does on a DC). */
function setDialin(user: string, attrs: Record<string, string>): void {
  const py = `
import sys, ldb
from samba.param import LoadParm
from samba.samdb import SamDB
from samba.auth import system_session
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
dn = db.search(base=db.domain_dn(), expression="(sAMAccountName=${user})", attrs=[])[0].dn
m = ldb.Message(dn)
${Object.entries(attrs).map(([k, v]) => `m["${k}"] = ldb.MessageElement(b"${v}", ldb.FLAG_MOD_REPLACE, "${k}")`).join('\n')}
db.modify(m)
`;
  const r = inNs(['/usr/bin/python3', '-', dc.DC_SMB_CONF!], { input: py });
  assert.equal(r.code, 0, r.err);
}

function simCaller(args: string[]): { code: number | null; out: string; err: string } {
  return inNs([process.execPath, '--import', 'tsx', join(root, 'scripts/sim-caller.ts'), '--to', `tcp://127.0.0.1:${FAR}`, '--timeout', '90', ...args], { timeout: 120_000 });
}

const logText = () => gateway?.log() ?? '';
const summaries = () =>
  logText()
    .split('\n')
    .filter((l) => l.includes('"call summary"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('callback against the domain (msRADIUSServiceType, msRADIUSCallbackNumber)', { skip }, () => {
  before(async () => {
    dc = startDc(NAME);
    dir = mkdtempSync(join(tmpdir(), 'rg-cb-'));
    setDialin('alice', { msRADIUSServiceType: '4', msRADIUSCallbackNumber: '5551234' });
    setDialin('nested', { msRADIUSServiceType: '3' });
    const config = join(dir, 'rasgate.yaml');
    writeFileSync(
      config,
      `lines:
  - id: sim0
    device: "sim://dom?far=tcp://127.0.0.1:${FAR}&dial=5551234=tcp://127.0.0.1:${PHONE}"
    action: hangup
    callback: { delaySeconds: 2, allow: ['555*'] }
${ldapAuthorityYaml(dc)}log: { transitions: true }
`,
    );
    gateway = new ServeInDc(NAME, config);
    await waitFor(() => logText().includes('"gateway started"'), 'gateway started', 30_000, 200);
  });

  after(async () => {
    await gateway?.stop();
    stopDc(NAME);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('Preset from the directory is called back and logs in again; Set By Caller gives a number; a user without the attributes is not called back', async () => {
    const alice = simCaller(['--user', `${dc.DC_DOMAIN}\\alice`, '--password', dc.DC_PASSWORD, '--callback-listen', `tcp://127.0.0.1:${PHONE}`]);
    assert.equal(alice.code, 0, `${alice.err}\n${alice.out}\n${logText().slice(-3000)}`);
    assert.match(alice.out, /Calling you back at \.\.\.-1234/);
    assert.match(alice.err, /called back: answering/);
    assert.match(alice.out, /Login accepted\. Goodbye\./);
    await waitFor(() => summaries().some((s) => s.user === 'alice'), 'alice summary', 30_000, 200);
    const a = summaries().find((s) => s.user === 'alice')!;
    assert.equal(a.outcome, 'accepted', JSON.stringify(a));
    assert.deepEqual(a.callback, { number: '5551234', source: 'preset', attempts: 1 });
    assert.ok(logText().includes('"callback policy"') && logText().includes('"from":"directory"'));
    // The line re-initialises after each call (ATZ would end a call ringing before that).
    const idleAgain = () => waitFor(() => logText().split('"call summary"').at(-1)!.includes('"to":"open.idle'), 'the line idle again', 30_000, 200);
    await idleAgain();

    const nested = simCaller(['--user', `${dc.DC_DOMAIN}\\nested`, '--password', dc.DC_PASSWORD, '--callback-number', '555-1234', '--callback-listen', `tcp://127.0.0.1:${PHONE}`]);
    assert.equal(nested.code, 0, `${nested.err}\n${nested.out}`);
    assert.match(nested.out, /Callback number \(Enter: no callback\): /);
    await waitFor(() => summaries().some((s) => s.user === 'nested'), 'nested summary', 30_000, 200);
    const n = summaries().find((s) => s.user === 'nested')!;
    assert.equal(n.outcome, 'accepted', JSON.stringify(n));
    assert.deepEqual(n.callback, { number: '555-1234', source: 'caller', attempts: 1 });
    await idleAgain();

    const other = simCaller(['--user', `${dc.DC_DOMAIN}\\bob`, '--password', dc.DC_PASSWORD]);
    assert.equal(other.code, 0, `${other.err}\n${other.out}`);
    assert.ok(!other.out.includes('Calling you back') && !other.out.includes('Callback number'));
    assert.match(other.out, /Login accepted\. Goodbye\./);
    await waitFor(() => summaries().some((s) => s.user === 'bob'), 'bob summary', 30_000, 200);
    const b = summaries().find((s) => s.user === 'bob')!;
    assert.equal(b.outcome, 'accepted');
    assert.equal(b.callback, undefined);
    assert.ok(!logText().includes(dc.DC_PASSWORD), 'no password in the log');
  });
});
