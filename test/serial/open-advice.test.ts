import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAdvice } from '../../src/serial/open-advice.js';
import { LineLockedError, LineOpenError } from '../../src/serial/errors.js';

// [what the binding or our checks threw, expected cause, a word the fix must contain, hopeless]
const cases: Array<[unknown, RegExp, RegExp, boolean]> = [
  [new LineOpenError('/dev/ttyS9', 'Permission denied', { errno: 'EACCES' }), /permission denied/, /usermod -aG|udev/, false],
  [new Error('Error: Permission denied, cannot open /dev/ttyS9'), /permission denied/, /DeviceAllow/, false],
  [new LineOpenError('/dev/ttyUSB3', 'no such device', { errno: 'ENOENT' }), /no such device/, /by-id/, false],
  [new Error('Error: Device or resource busy, cannot open /dev/ttyS0'), /busy/, /fuser -v \/dev\/ttyS0/, false],
  [new LineLockedError('/dev/ttyS0', `UUCP lock /var/lock/LCK..ttyS0 held by PID ${process.pid}`), new RegExp(`locked by PID ${process.pid} \\(`), /serial-getty@ttyS0\.service/, false],
  [new LineLockedError('/dev/ttyS0', ''), /locked by another program/, /retries/, false],
  [new Error('Error: Input/output error, cannot open /dev/ttyACM0'), /not responding/, /dmesg/, false],
  [new Error('Error: Inappropriate ioctl for device, cannot open /dev/null'), /not a serial device/, /device path/, true],
  [new Error('Error: Invalid argument, cannot set'), /settings refused/, /baudRate/, true],
  [new Error('something new'), /something new/, /retrying/, false],
];

test('open advice: every failure names its cause and a fix; only an impossible device is hopeless', () => {
  for (const [err, cause, fix, hopeless] of cases) {
    const a = openAdvice(err, (err as { device?: string }).device ?? '/dev/ttyS0');
    assert.match(a.cause, cause, String(err));
    assert.match(a.fix, fix, String(err));
    assert.equal(a.hopeless, hopeless, String(err));
  }
});

test('open advice: a permission problem names the device group and mode, and who we run as', () => {
  const a = openAdvice(new LineOpenError('/dev/null', 'Permission denied', { errno: 'EACCES' }), '/dev/null');
  assert.match(a.fix, /\/dev\/null is group root, mode 0666; rasgate runs as uid \d+/);
});
