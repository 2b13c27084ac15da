/**
 * The guessing defence on a modem line, end to end in one process: the real Gateway (local
 * store, login dialogue, NTLM, call machine, guard, audit trail) on a simulated modem with
 * caller ID, every timer on one SimulatedClock. A number that guessed wrong is penalised: its
 * next call rings unanswered (`modemRefusal: ignore`), or is answered, told and hung up
 * (`answer`); another number is answered as before.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { Gateway } from '../../src/gateway/daemon.js';
import { loadConfigFile } from '../../src/gateway/config.js';
import { nullLogger } from '../../src/observe/logger.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import type { CallSummary } from '../../src/gateway/call-runner.js';
import type { AuditEvent } from '../../src/audit/events.js';
import type { SimCaller } from '../../src/serial/sim-modem.js';
import { advance, advanceUntil } from '../line/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-guard-modem-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function rig(modemRefusal: 'ignore' | 'answer') {
  const base = join(dir, `g${++n}`);
  const file = join(base, 'rasgate.yaml');
  const store = new SmbpasswdStore(join(base, 'smbpasswd'));
  await store.update((ed) => ed.put({ name: 'kim', uid: 1000, ntHash: ntowfv1('Kim-pw-1'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }));
  writeFileSync(
    file,
    `lines: [{ id: sim0, device: "sim://gm${n}", modem: { answerOnRing: 2, callerId: AT+VCID=1 } }]
authority: { file: ./smbpasswd }
dialogue: { maxAttempts: 1, failureDelaysSeconds: [1] }
penalties: { authfailSeconds: 20, modemRefusal: ${modemRefusal} }
shutdown: { grace: 0 }
`,
  );
  const clock = new SimulatedClock();
  clock.set(Date.UTC(2026, 5, 1, 12));
  const summaries: CallSummary[] = [];
  const events: AuditEvent[] = [];
  const gw = new Gateway({ loaded: loadConfigFile(file), logger: nullLogger(), clock, onCallEnd: (s) => void summaries.push(s), audit: { record: (e) => void events.push(e) } });
  const started = gw.start();
  await advanceUntil(clock, () => gw.status().lines[0]?.state === 'idle', 'line idle');
  await started;
  const modem = gw.simModems.find(`gm${n}`)!;
  /** One call from `number`: the login dialogue with `password`, to its end. */
  const call = async (number: string, password: string): Promise<SimCaller> => {
    const caller = modem.dial({ number });
    await advanceUntil(clock, () => caller.received.includes('login: ') || caller.state === 'ended', 'login prompt');
    if (caller.state === 'ended') return caller;
    caller.type('kim\r');
    await advanceUntil(clock, () => caller.received.includes('Password: '), 'password prompt');
    caller.type(`${password}\r`);
    await advanceUntil(clock, () => caller.state === 'ended', 'the call to end');
    await advanceUntil(clock, () => gw.status().lines[0]?.state === 'idle', 'line idle again');
    return caller;
  };
  const stop = async () => {
    const stopping = gw.stop();
    await advance(clock, 5000);
    await stopping;
  };
  return { gw, clock, modem, call, summaries, events, stop };
}

test('modem: a penalised caller ID is not answered (it rings until the caller gives up); another number is', async () => {
  const r = await rig('ignore');
  try {
    const first = await r.call('5550100', 'wrong');
    assert.match(first.received, /Password: \r\nLogin incorrect\r\n/);
    assert.equal(r.summaries[0]!.outcome, 'bad-credentials');
    assert.ok(r.events.some((e) => e.event === 'penalty-start' && e.source === 'tel:5550100'));
    assert.equal(r.gw.activePenalties()[0]!.source, 'tel:5550100');

    const again = r.modem.dial({ number: '5550100' });
    await advanceUntil(r.clock, () => again.state === 'ended', 'the caller gives up', 180_000, 250);
    assert.equal(again.received, '', 'never answered');
    assert.ok(again.rings >= 10);
    assert.equal(r.summaries.length, 1, 'no call');
    // Rings within ringTimeoutMs of the last are the same call to a modem line: let it go idle.
    await advanceUntil(r.clock, () => r.gw.status().lines[0]?.state === 'idle', 'line idle');

    // The penalty (20 s) is long over: a fresh number, and the same number later, are answered.
    const other = await r.call('5550199', 'Kim-pw-1');
    assert.match(other.received, /Login accepted/);
    const later = await r.call('5550100', 'Kim-pw-1');
    assert.match(later.received, /Login accepted/);
  } finally {
    await r.stop();
  }
});

test('modem: with modemRefusal answer, a penalised caller ID is answered, told, and hung up: refused-penalty, no dialogue', async () => {
  const r = await rig('answer');
  try {
    await r.call('5550100', 'wrong');
    const again = r.modem.dial({ number: '5550100' });
    await advanceUntil(r.clock, () => again.state === 'ended' && r.summaries.length === 2, 'hung up');
    assert.match(again.received, /Too many failed logins: try again later/);
    assert.doesNotMatch(again.received, /login: /);
    const s = r.summaries.at(-1)!;
    assert.equal(s.outcome, 'refused-penalty');
    assert.equal(s.rasError, 691);
    assert.ok(r.events.some((e) => e.event === 'call-end' && e.result === 'refused-penalty' && e.source === 'tel:5550100'));
  } finally {
    await r.stop();
  }
});
