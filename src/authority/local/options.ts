/** `authority: { type: local, ... }`: each setting's type, default and meaning, described once. */
import { bool, obj, oneOf, str, type Infer, type Input } from '../../options/fields.js';

export const localAuthorityFields = {
  type: oneOf(['local'], { doc: 'kind', required: true }),
  file: str({ doc: "smbpasswd-format NT-hash file (relative paths: from the config file's folder)", default: './var/smbpasswd', check: (v) => (v ? undefined : 'must not be empty') }),
  domain: str({ doc: 'NetBIOS domain reported for local accounts (1-15 characters)', defaultText: 'host name, upper-cased', check: (v) => (v.length >= 1 && v.length <= 15 ? undefined : 'must be 1 to 15 characters') }),
  policyFile: str({ doc: "per-user policy (callback) of the local accounts, YAML, written by `rasgate user callback` (relative paths: from the config file's folder)", defaultText: '`user-policy.yaml` beside `file`', check: (v) => (v ? undefined : 'must not be empty') }),
  allowNtlmV1: bool({ doc: 'accept NTLMv1 responses (crackable offline; a warning at start): the one NTLMv1 switch, which the acceptor reads from the authority (our own line client always sends NTLMv2: it matters to library and HTTP clients)', default: false }),
};

export const localAuthorityField = obj(localAuthorityFields, { doc: 'local authority' });

export type LocalAuthorityConfig = Infer<typeof localAuthorityFields>;
/** What a library caller passes (`type` may be left out). */
export type LocalAuthorityInput = Omit<Input<LocalAuthorityConfig>, 'type'> & { type?: 'local' };
