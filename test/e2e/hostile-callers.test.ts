/**
 * Callers who attack the line itself, against the real `rasgate serve`: one of them must never
 * stop the daemon or grow its memory without bound, and the other callers carry on.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Caller, startGateway, tempDir, type Gateway } from './harness.js';

const tmp = tempDir();
after(() => tmp.remove());

const IAC = 255;
const WILL = 251;
const DO = 253;

/** Connect, accept the server's WILL ECHO / WILL SGA / DO SGA, and read until `login: `. */
async function telnetAtPrompt(port: number): Promise<{ socket: Socket; text: () => string }> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  let text = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no login prompt; got ${JSON.stringify(text)}`)), 15_000);
    socket.on('data', (b: Buffer) => {
      for (let i = 0; i < b.length; i++) {
        if (b[i] === IAC && b[i + 1]! >= WILL && b[i + 1]! <= 254) {
          if (b[i + 1] === WILL) socket.write(Buffer.from([IAC, DO, b[i + 2]!]));
          i += 2;
        } else text += String.fromCharCode(b[i]!);
      }
      if (text.endsWith('login: ')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { socket, text: () => text };
}

/** Write `total` bytes of `unit` repeated, without reading, until done or the server drops us. */
async function flood(socket: Socket, unit: Buffer, total: number): Promise<number> {
  const chunk = Buffer.concat(Array.from({ length: Math.ceil(64 * 1024 / unit.length) }, () => unit));
  let sent = 0;
  while (sent < total && !socket.destroyed) {
    const ok = socket.write(chunk);
    sent += chunk.length;
    if (!ok) {
      const drained = await new Promise<boolean>((r) => {
        const done = (v: boolean) => {
          socket.off('drain', onDrain);
          socket.off('close', onClose);
          clearTimeout(t);
          r(v);
        };
        const onDrain = () => done(true);
        const onClose = () => done(false);
        // The server may stop reading us too (we are not reading it): stop after a quiet while.
        const t = setTimeout(() => done(false), 5000);
        socket.once('drain', onDrain);
        socket.once('close', onClose);
      });
      if (!drained) break;
    }
  }
  return sent;
}

async function stillServes(gw: Gateway, port: number): Promise<void> {
  const c = new Caller(port);
  await c.login('ada', 'Ada-pw-1');
  await c.expect(/Login accepted/);
  await c.waitClosed();
  assert.equal(gw.proc.exitCode, null, 'the daemon is still running');
}

test('a telnet caller who stops reading and floods IAC WILL 99 is cut off; the daemon serves on', async () => {
  // The field warning comes after 1 s: it is a write while the caller does not read.
  const gw = await startGateway(
    `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: telnet }]\nauthority: { file: ./flood-smbpasswd }\ndialogue: { fieldTimeoutSeconds: 4, fieldWarningSeconds: 3 }\nshutdown: { grace: 1 }\n`,
    { dir: tmp.dir, name: 'flood.yaml', users: [['ada', 'Ada-pw-1']] },
  );
  try {
    const port = gw.port('tcp0');
    const { socket } = await telnetAtPrompt(port);
    socket.pause(); // stop reading
    await flood(socket, Buffer.from([IAC, WILL, 99]), 8 * 1024 * 1024);
    const summary = await gw.waitLog((l) => l.message === 'call summary' && l.call === 'tcp0-1', 'the flooder is accounted for', 30_000);
    assert.ok(summary.outcome !== undefined);
    socket.destroy();
    await stillServes(gw, port);
    assert.ok(!gw.logs.some((l) => l.message === 'uncaught exception' || l.message === 'unhandled rejection'), 'no uncaught error');
  } finally {
    assert.equal((await gw.stop()).code, 0, [...gw.stderr, ...gw.stdout.filter((l) => /uncaught|unhandled|fatal/.test(l))].join('\n'));
  }
});

test('telnet replies go through the bounded write queue: non-reading negotiators cannot grow memory', async () => {
  const gw = await startGateway(
    `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: telnet, maxCallsPerSource: 8 }]\nauthority: { file: ./ayt-smbpasswd }\nshutdown: { grace: 1 }\n`,
    { dir: tmp.dir, name: 'ayt.yaml', users: [['ada', 'Ada-pw-1']] },
  );
  try {
    const port = gw.port('tcp0');
    const rss = () => rssOf(gw.proc.pid!);
    const before = rss();
    // Four callers that never read: IAC AYT (2 bytes in, 9 out) and WILL <unsupported> (each one a DONT back).
    const callers = await Promise.all([0, 1, 2, 3].map(() => telnetAtPrompt(port)));
    for (const c of callers) c.socket.pause();
    const units = [Buffer.from([IAC, 246]), Buffer.from([IAC, WILL, 99]), Buffer.from([IAC, 246, IAC, WILL, 42]), Buffer.from([IAC, DO, 77])];
    await Promise.all(callers.map((c, i) => flood(c.socket, units[i]!, 16 * 1024 * 1024)));
    // Every one of them is cut off (the queue filled) or still bounded; the daemon stays small.
    const grown = rss() - before;
    assert.ok(grown < 96 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MiB`);
    for (const c of callers) c.socket.destroy();
    await stillServes(gw, port);
  } finally {
    assert.equal((await gw.stop()).code, 0, [...gw.stderr, ...gw.stdout.filter((l) => /uncaught|unhandled|fatal/.test(l))].join('\n'));
  }
});

/** Resident set size of a process, bytes (/proc/PID/status VmRSS). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU seconds a process has used (/proc/PID/stat utime + stime). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('stdout goes away (rasgate serve | head): the daemon drops that log, says so once, serves on, and stops on SIGTERM', async () => {
  const gw = await startGateway(
    `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./pipe-smbpasswd }\nshutdown: { grace: 1 }\n`,
    { dir: tmp.dir, name: 'pipe.yaml', users: [['ada', 'Ada-pw-1']] },
  );
  try {
    const port = gw.port('tcp0'); // read before stdout, where the daemon says it, goes away
    gw.proc.stdout!.destroy(); // the reader of the pipe is gone: the next write gets EPIPE
    for (let i = 0; i < 3; i++) {
      const c = new Caller(port);
      await c.login('ada', 'Ada-pw-1');
      await c.expect(/Login accepted/);
      await c.waitClosed();
    }
    assert.equal(gw.proc.exitCode, null, 'still running');
    const before = cpuSeconds(gw.proc.pid!);
    await new Promise((r) => setTimeout(r, 3000));
    const spent = cpuSeconds(gw.proc.pid!) - before;
    assert.ok(spent < 1, `an idle daemon spent ${spent} CPU seconds in 3 s: it spins`);
    const told = gw.stderr.filter((l) => /stdout/.test(l));
    assert.equal(told.length, 1, `said once on stderr: ${JSON.stringify(gw.stderr)}`);
    assert.match(told[0]!, /EPIPE/);
    gw.signal('SIGTERM');
    const r = await gw.exited;
    assert.equal(r.code, 0, gw.stderr.join('\n'));
  } finally {
    await gw.stop();
  }
});
