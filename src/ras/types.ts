/** The rasshost.h structures as rasgate passes them around. */
import type { DialogueOutcome } from '../../machines/dialogue.js';
import type { SecurityMsgId } from './codes.js';

/** HPORT: a port handle issued by RasSecurityHost.openPort(). */
export type PortHandle = number;

/** SECURITY_MESSAGE. */
export interface SecurityMessage {
  msgId: SecurityMsgId;
  port: PortHandle;
  /** 0 unless msgId is SECURITYMSG_ERROR. */
  error: number;
  /** Required (non-empty) for SUCCESS and FAILURE; at most UNLEN characters. */
  userName: string;
  /** At most DNLEN characters. */
  domain: string;
}

/** RAS_SECURITY_INFO: the state of the port's last receive. */
export interface RasSecurityInfo {
  /** NO_ERROR (0), PENDING (600) or the error that ended the receive. */
  lastError: number;
  /** Valid only when lastError is 0; 0 after a timeout. */
  bytesReceived: number;
  /** At most MAX_DEVICE_NAME characters. */
  deviceName: string;
}

/** What rasgate adds to a completion beyond the SECURITY_MESSAGE (the gateway decides with it). */
export interface CompletionDetail {
  /** How the dialogue ended (absent when complete() was called by hand). */
  outcome?: DialogueOutcome;
  /** A PPP frame started the user-name field: these bytes (frame start and what followed) go to pppd. */
  pppFrame?: Buffer;
  /** The dialogue itself failed (a fault in rasgate, logged with its stack): count it as a crash. */
  crashed?: boolean;
}

/** RasSecurityDialogComplete as the RAS server (the gateway) receives it. */
export type CompletionCallback = (message: SecurityMessage, detail: CompletionDetail) => void;

/** setTimeout/clearTimeout pair; xstate's Clock and SimulatedClock fit it. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}
