/** The simulated modem's far side over TCP (src/serial/sim-far-side.ts), with real sockets on loopback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { SimModem } from '../../src/serial/sim-modem.js';
import { openFarSide } from '../../src/serial/sim-far-side.js';
import { nullLogger } from '../../src/observe/logger.js';
import { waitFor } from '../helpers/net.js';

test('sim far side: a caller that stops reading holds CTS (the DTE stalls), reading again releases it, hanging up too', async () => {
  const modem = new SimModem('far1', { connectDelayMs: 10 });
  modem.attach(() => undefined, () => undefined);
  modem.fromDte(Buffer.from('ATE0S0=1\r'));
  const far = await openFarSide(modem, { host: '127.0.0.1', port: 0 }, nullLogger());
  let caller: Socket | undefined;
  try {
    caller = connect({ host: '127.0.0.1', port: far.address.port });
    caller.write('DIAL 5550101\r\n');
    await waitFor(() => modem.currentCaller?.state === 'connected', 'connected');
    caller.pause();
    // A DTE that honours CTS writes while the modem lets it.
    let written = 0;
    while (modem.cts && written < 64 * 1024 * 1024) {
      modem.fromDte(Buffer.alloc(64 * 1024, 0x41));
      written += 64 * 1024;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(modem.cts, false, `CTS still on after ${written} bytes to a caller that does not read`);
    caller.resume();
    await waitFor(() => modem.cts, 'CTS back on once the caller reads');
    caller.pause();
    while (modem.cts) {
      modem.fromDte(Buffer.alloc(64 * 1024, 0x41));
      await new Promise((r) => setImmediate(r));
    }
    caller.destroy();
    await waitFor(() => modem.currentCaller === undefined && modem.cts, 'call over, CTS on for the next one');
  } finally {
    caller?.destroy();
    far.close(true);
  }
});
