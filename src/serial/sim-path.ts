/**
 * `sim://NAME[?far=tcp://HOST:PORT][&dial=NUMBER=tcp://HOST:PORT ...][&dialtone=off]`: the
 * simulated modem NAME, where callers dial in over TCP (far), where its own calls go (each
 * dial= one entry of its dial plan, see sim-dial.ts), and whether it finds a dial tone. Pure.
 */
import { RasgateError } from '../errors.js';
import { parseTcpUrl, type TcpAddress } from '../options/address.js';
import { normaliseNumber } from './sim-commands.js';

export const SIM_PREFIX = 'sim://';

/** Dial plan entries one modem takes at most. */
export const MAX_DIAL_PLAN = 64;

/** Number (normalised) -> where a call to it goes. */
export type DialPlan = ReadonlyMap<string, TcpAddress>;

export interface SimPath {
  name: string;
  far?: TcpAddress;
  dialPlan: DialPlan;
  /** false (`dialtone=off`): every ATD finds no dial tone. */
  dialTone: boolean;
}

/** A sim:// path that cannot be used; the message says what is wrong with which part. */
export class SimPathError extends RasgateError {
  constructor(message: string) {
    super('SIM_PATH_INVALID', message);
  }
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const FORM = 'sim://NAME[?far=tcp://HOST:PORT&dial=NUMBER=tcp://HOST:PORT&dialtone=off]';

/** Parse a sim:// path; throws SimPathError. */
export function parseSimPath(path: string): SimPath {
  if (!path.startsWith(SIM_PREFIX)) throw new SimPathError(`${JSON.stringify(path)} is not ${FORM}`);
  const q = path.indexOf('?');
  const name = path.slice(SIM_PREFIX.length, q < 0 ? undefined : q);
  if (!NAME.test(name)) throw new SimPathError(`${JSON.stringify(path)} is not ${FORM} (NAME: 1-64 letters, digits, "-", "_" or ".")`);
  const out: SimPath = { name, dialPlan: new Map(), dialTone: true };
  const plan = new Map<string, TcpAddress>();
  for (const [key, value] of new URLSearchParams(q < 0 ? '' : path.slice(q + 1))) {
    if (key === 'far') {
      const far = parseTcpUrl(value);
      if (!far) throw new SimPathError(`${JSON.stringify(value)} (far side) is not tcp://HOST:PORT`);
      out.far = far;
    } else if (key === 'dial') {
      const eq = value.indexOf('=');
      const number = normaliseNumber(eq < 0 ? '' : value.slice(0, eq));
      const to = eq < 0 ? undefined : parseTcpUrl(value.slice(eq + 1));
      if (!number || !to || to.port === 0) throw new SimPathError(`${JSON.stringify(value)} (dial plan entry) is not NUMBER=tcp://HOST:PORT`);
      if (!plan.has(number) && plan.size >= MAX_DIAL_PLAN) throw new SimPathError(`more than ${MAX_DIAL_PLAN} dial plan entries`);
      plan.set(number, to);
    } else if (key === 'dialtone') {
      if (value !== 'on' && value !== 'off') throw new SimPathError(`dialtone=${JSON.stringify(value)} is neither on nor off`);
      out.dialTone = value === 'on';
    } else {
      throw new SimPathError(`${JSON.stringify(key)} is not a sim:// parameter (far, dial, dialtone)`);
    }
  }
  out.dialPlan = plan;
  return out;
}
