/** Every fuzz target by name (`npm run fuzz -- --list`). */
import type { FuzzTarget } from '../engine.js';
import { ntlmDecode } from './ntlm-decode.js';
import { ntlmAccept } from './ntlm-accept.js';
import { terminal } from './terminal.js';
import { telnet } from './telnet.js';
import { hayes } from './hayes.js';
import { ldap } from './ldap.js';
import { winbind } from './winbind.js';
import { config } from './config.js';
import { tcpLineTarget } from './tcp-line.js';

export const TARGETS: Record<string, () => FuzzTarget> = {
  'ntlm-decode': () => ntlmDecode,
  'ntlm-accept': () => ntlmAccept,
  terminal: () => terminal,
  telnet: () => telnet,
  hayes: () => hayes,
  ldap: () => ldap,
  winbind: () => winbind,
  config: () => config,
  'tcp-line': () => tcpLineTarget(),
};
