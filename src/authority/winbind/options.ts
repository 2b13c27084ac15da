/** `authority: { type: winbind, ... }`: each setting's type, default and meaning, described once. */
import { list, num, obj, oneOf, str, type Infer, type Input } from '../../options/fields.js';

const ms = <const D extends number>(doc: string, def: D) => num({ doc, default: def, min: 1, max: 3_600_000, unit: 'ms' });

export const winbindAuthorityFields = {
  type: oneOf(['winbind'], { doc: 'kind', required: true }),
  ntlmAuthPath: str({ doc: 'the ntlm_auth program (Samba winbind)', default: 'ntlm_auth' }),
  extraArgs: list(str({ doc: '', required: true, exact: true }), { doc: "more arguments for ntlm_auth (e.g. `--configfile=/etc/samba/smb.conf`)", default: [] }),
  requiredGroup: str({ doc: 'group the user must be in (`EXAMPLE\\dialin-users` as winbind resolves it, or a SID): ntlm_auth --require-membership-of' }),
  domain: str({ doc: 'NetBIOS domain put in our CHALLENGE and used when the client sends none (1-15 characters)', check: (v) => (v.length >= 1 && v.length <= 15 ? undefined : 'must be 1 to 15 characters (a NetBIOS name)') }),
  requestTimeoutMs: ms('per request, time in the queue included', 10_000),
  restartMinMs: ms('first restart delay after the helper dies; doubles up to restartMaxMs', 100),
  restartMaxMs: ms('longest restart delay', 10_000),
  queueLimit: num({ doc: 'requests allowed to wait for a helper, across the pool', default: 256, min: 1, max: 100_000, integer: true }),
  helpers: num({ doc: 'ntlm_auth helper processes run side by side (each answers one request at a time)', default: 4, min: 1, max: 32, integer: true }),
};

export const winbindAuthorityField = obj(winbindAuthorityFields, { doc: 'winbind authority', unknownKey: 'unknown key for type winbind' });

export type WinbindAuthorityConfig = Infer<typeof winbindAuthorityFields>;
/** What a library caller passes (`type` may be left out). */
export type WinbindAuthorityOptions = Omit<Input<WinbindAuthorityConfig>, 'type'> & { type?: 'winbind' };
