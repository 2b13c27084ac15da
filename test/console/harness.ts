/** Shared pieces of the console tests: a fake ConsoleSource, a real call actor, an SSE reader, a log capture. */
import http from 'node:http';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolPath } from '../helpers/tools.js';
import winston from 'winston';
import type { Page, Response } from 'playwright-core';
import { createActor, fromCallback, fromPromise, type InspectionEvent, type Observer } from 'xstate';
import { callMachine, type CallInput } from '../../machines/call.js';
import { createLogger, type Logger } from '../../src/observe/logger.js';
import { Metrics } from '../../src/observe/metrics.js';
import { RecentCalls, type ConsoleHooks, type ConsoleRecord, type ConsoleSource, type LineStatusLike } from '../../src/observe/console/index.js';
import { acquireCredentialsHandle, type CredentialHandle } from '../../src/ntlm/server.js';
import { makeLocalAuthority } from '../../scripts/interop/local-authority-fixture.js';

export { ntlmSession, type NtlmSession } from '../../scripts/interop/ntlm-http-session.js';

/** What the tests type as a password: it must never appear in anything the console serves. */
export const SECRET = 'Hunter2-Secret-Pw';

export interface FakeSource extends ConsoleSource {
  lines: LineStatusLike[];
  metricsObj: Metrics;
  recent: RecentCalls;
}

export function fakeSource(): FakeSource {
  const metricsObj = new Metrics();
  const recent = new RecentCalls(10);
  const src: FakeSource = {
    lines: [
      { id: 'tcp1', state: 'listening', activeCalls: 1 },
      { id: 'modem0', state: 'idle', activeCalls: 0, lastError: 'ENOENT /dev/ttyUSB0' },
    ],
    metricsObj,
    recent,
    status: () => ({ lines: src.lines, calls: src.lines.reduce((n, l) => n + l.activeCalls, 0) }),
    metrics: () => metricsObj.snapshot(),
    recentCalls: recent.recentCalls,
  };
  for (let i = 0; i < 3; i++) metricsObj.callStarted();
  metricsObj.record({ outcome: 'accepted', bytesIn: 120, bytesOut: 340 });
  metricsObj.record({ outcome: 'accepted', bytesIn: 0, bytesOut: 0 });
  // A summary with a stray secret field: the console copies fields by name, so it cannot pass.
  recent.add({ line: 'tcp1', call: 'c-0001', outcome: 'accepted', peer: '5551234', user: 'alice', domain: 'LAB', durationMs: 2345, bytesIn: 120, bytesOut: 340, password: SECRET } as never);
  return src;
}

/** A real call machine actor (machines/call.ts) whose context carries a password, inspected by `observer`. */
export function liveCall(observer: Observer<InspectionEvent>, callId: string) {
  const machine = callMachine.provide({
    actors: {
      securityDialogue: fromCallback(() => () => {}),
      carrier: fromCallback(() => () => {}),
      exec: fromPromise(() => new Promise<void>(() => {})),
      hangup: fromPromise(() => new Promise<void>(() => {})),
    },
  });
  const input = { lineId: 'tcp1', callId, action: 'exec', pppToExec: false, password: SECRET } as unknown as CallInput;
  const actor = createActor(machine, { input, inspect: observer });
  actor.subscribe({ error: () => {} });
  actor.start();
  return {
    actor,
    /** securing -> authorized -> executing (the SECURITY_MESSAGE carries the password too). */
    login: () => actor.send({ type: 'SECURITY_MESSAGE', message: { msgId: 1, error: 0, userName: 'alice', domain: 'LAB', password: SECRET } as never }),
    /** -> done: the actor leaves the live set. */
    hangUp: () => actor.send({ type: 'CARRIER_LOST', reason: 'carrier-lost' }),
  };
}

export interface SseFrame {
  event: string;
  data: unknown;
}

/** An EventSource stand-in for node: collects frames and the raw text. */
export function openEvents(url: string): Promise<{ frames: SseFrame[]; raw: () => string; close: () => void; status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL('/events', url), (res) => {
      const frames: SseFrame[] = [];
      let raw = '';
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) frames.push({ event, data: JSON.parse(data) });
        }
      });
      res.on('error', () => {});
      resolve({ frames, raw: () => raw, close: () => req.destroy(), status: res.statusCode ?? 0 });
    });
    req.on('error', reject);
  });
}

export function lastOf(frames: SseFrame[], event: string): unknown {
  for (let i = frames.length - 1; i >= 0; i--) if (frames[i].event === event) return frames[i].data;
  return undefined;
}

/** A logger whose JSON lines land in an array. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(c, _e, cb) {
      lines.push(JSON.parse(String(c)) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ noStdout: true, level: 'debug', transports: [new winston.transports.Stream({ stream: sink })] }), lines };
}

/** A raw HTTP request (any method, any Host header). */
export function request(url: string, o: { method?: string; path?: string; host?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: o.method ?? 'GET', path: o.path ?? '/', headers: o.host !== undefined ? { host: o.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A console's NTLM sign-in against a temporary local store (alice, bob), with everything it logs and records. */
export const OPERATORS = { alice: 'Alice-Console-pw1', bob: 'Bob-Console-pw2' } as const;

export function signInFixture(): { credential: CredentialHandle; records: ConsoleRecord[]; hooks: ConsoleHooks; cleanup(): Promise<void> } {
  const fx = makeLocalAuthority(Object.entries(OPERATORS).map(([name, password]) => ({ name, password })), 'GATE');
  const credential = acquireCredentialsHandle({ authority: fx.authority });
  const records: ConsoleRecord[] = [];
  return { credential, records, hooks: { record: (r) => records.push(r) }, cleanup: () => fx.cleanup() };
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl in `dir`. */
export function testCertificate(dir: string): { cert: Buffer; key: Buffer; certFile: string; keyFile: string } {
  const certFile = join(dir, 'console.crt');
  const keyFile = join(dir, 'console.key');
  const r = spawnSync(toolPath('openssl'), ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=rasgate console test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
}

/** The last answer to a navigation; Chromium fails a navigation whose error answer has no body, so read the response itself. */
export async function visit(page: Page, url: string): Promise<Response | undefined> {
  let last: Response | undefined;
  const seen = (r: Response) => {
    if (r.url() === url) last = r;
  };
  page.on('response', seen);
  try {
    await page.goto(url).catch(() => undefined);
  } finally {
    page.off('response', seen);
  }
  return last;
}
