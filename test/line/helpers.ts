/** Shared helpers for line tests: simulated time with the real event loop turning in between. */
import { SimulatedClock } from 'xstate';
import type { CallChannel } from '../../src/serial/types.js';

export { SimulatedClock };

/** Let promise chains and stream callbacks run (the serialport stream reads asynchronously). */
export async function settle(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Advance simulated time in steps, letting I/O callbacks run after each step. */
export async function advance(clock: SimulatedClock, ms: number, stepMs = 50): Promise<void> {
  await settle();
  for (let t = 0; t < ms; t += stepMs) {
    clock.increment(Math.min(stepMs, ms - t));
    await settle();
  }
}

/** Advance until `check` holds, or fail after `maxMs` of simulated time. */
export async function advanceUntil(clock: SimulatedClock, check: () => boolean, what: string, maxMs = 120_000, stepMs = 50): Promise<void> {
  await settle();
  for (let t = 0; !check(); t += stepMs) {
    if (t > maxMs) throw new Error(`simulated ${maxMs} ms passed waiting for ${what}`);
    clock.increment(stepMs);
    await settle();
  }
}

/**
 * A trivial per-call handler (the dialogue belongs elsewhere): prompt, read one line,
 * greet, hang up. Records what it read.
 */
export function greeter(log: string[], options: { hangup?: boolean } = {}) {
  return (call: CallChannel) => {
    let buf = '';
    call.write(Buffer.from('\r\nlogin: '));
    call.onData((bytes) => {
      for (const ch of bytes.toString('latin1')) {
        if (ch === '\r' || ch === '\n') {
          if (!buf) continue;
          log.push(buf);
          call.write(Buffer.from(`\r\nhello ${buf}\r\n`));
          buf = '';
          if (options.hangup !== false) void call.hangup();
        } else buf += ch;
      }
    });
  };
}
