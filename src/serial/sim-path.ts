/**
 * `sim://NAME[?far=tcp://HOST:PORT]`: the simulated modem NAME, and where callers dial in
 * over TCP (far). Pure.
 */
import { RasgateError } from '../errors.js';
import { parseTcpAddress, type TcpAddress } from './address.js';

export const SIM_PREFIX = 'sim://';

export interface SimPath {
  name: string;
  far?: TcpAddress;
}

/** A sim:// path that cannot be used; the message says what is wrong with which part. */
export class SimPathError extends RasgateError {
  constructor(message: string) {
    super('SIM_PATH_INVALID', message);
  }
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const FORM = 'sim://NAME[?far=tcp://HOST:PORT]';

/** Parse a sim:// path; throws SimPathError. */
export function parseSimPath(path: string): SimPath {
  if (!path.startsWith(SIM_PREFIX)) throw new SimPathError(`${JSON.stringify(path)} is not ${FORM}`);
  const q = path.indexOf('?');
  const name = path.slice(SIM_PREFIX.length, q < 0 ? undefined : q);
  if (!NAME.test(name)) throw new SimPathError(`${JSON.stringify(path)} is not ${FORM} (NAME: 1-64 letters, digits, "-", "_" or ".")`);
  const out: SimPath = { name };
  for (const [key, value] of new URLSearchParams(q < 0 ? '' : path.slice(q + 1))) {
    if (key === 'far') {
      const far = parseTcpAddress(value);
      if (!far) throw new SimPathError(`${JSON.stringify(value)} (far side) is not tcp://HOST:PORT`);
      out.far = far;
    } else {
      throw new SimPathError(`${JSON.stringify(key)} is not a sim:// parameter (far)`);
    }
  }
  return out;
}
