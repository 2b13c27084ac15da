/**
 * From the validated configuration to the option types of the pieces the daemon wires:
 * src/serial createLine, src/ras RasSecurityHost (DialogueOptions), src/authority createAuthority.
 */
import type { LineConfig as SerialLineConfig } from '../serial/index.js';
import type { DialogueOptions } from '../ras/options.js';
import type { AuthorityConfig } from '../authority/index.js';
import { formatTcpUrl } from './config/address.js';
import type { AuthorityConfigSection, DialogueConfig, LineConfig } from './config/schema.js';

export function serialLineConfig(l: LineConfig): SerialLineConfig {
  if (l.kind === 'tcp') return { id: l.id, listen: formatTcpUrl(l.listen), mode: l.mode, maxCalls: l.maxCalls, maxCallsPerSource: l.maxCallsPerSource };
  return { id: l.id, device: l.device, baudRate: l.baudRate, dataBits: l.dataBits, parity: l.parity, stopBits: l.stopBits, rtscts: l.rtscts, lockDir: l.lockDir, modem: { ...l.modem } };
}

/** What must not change for a line to keep running across a reload (action and ppp may). */
export function transportKey(l: LineConfig): string {
  return JSON.stringify({ ...serialLineConfig(l), enabled: l.enabled });
}

export function dialogueOptions(d: DialogueConfig): DialogueOptions {
  const { pppRefused: _p, bridgeFailed: _b, loginAccepted: _l, shutdown: _s, ...messages } = d.messages;
  return {
    banner: d.banner,
    userPrompt: d.userPrompt,
    passwordPrompt: d.passwordPrompt,
    domainPrompt: d.domainPrompt,
    askDomain: d.askDomain,
    defaultDomain: d.defaultDomain,
    splitDomainForms: d.splitDomainForms,
    fieldTimeoutSeconds: d.fieldTimeoutSeconds,
    fieldWarningSeconds: d.fieldWarningSeconds,
    loginTimeoutSeconds: d.loginTimeoutSeconds,
    loginWarningSeconds: d.loginWarningSeconds,
    idleTimeoutSeconds: d.idleTimeoutSeconds,
    maxAttempts: d.maxAttempts,
    failureDelaysSeconds: [...d.failureDelaysSeconds],
    passwordMask: d.passwordMask,
    sevenBit: d.sevenBit,
    bellOnOverflow: d.bellOnOverflow,
    messages: { ...messages, deniedReasons: { ...messages.deniedReasons } },
  };
}

export function authorityConfig(a: AuthorityConfigSection): AuthorityConfig {
  return { ...a } as AuthorityConfig;
}
