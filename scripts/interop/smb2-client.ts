/**
 * A minimal SMB2 client for NTLM interop: NEGOTIATE (one dialect, 2.1 by default) and
 * SESSION_SETUP legs over Direct TCP [MS-SMB2 2.1], and the SMB 2.x signature check
 * (HMAC-SHA256 under the session key, [MS-SMB2 3.1.4.1]). Nothing else: no trees, no files.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Socket, connect } from 'node:net';

/** [MS-SMB2 2.2.1] */
const HEADER_SIZE = 64;
export const Smb2Command = { NEGOTIATE: 0x0000, SESSION_SETUP: 0x0001 } as const;
export const Smb2Flags = { SERVER_TO_REDIR: 0x1, SIGNED: 0x8 } as const;
/** [MS-SMB2 2.2.3] SecurityMode */
export const Smb2SecurityMode = { SIGNING_ENABLED: 0x1, SIGNING_REQUIRED: 0x2 } as const;
/** [MS-SMB2 2.2.6] SessionFlags */
export const Smb2SessionFlags = { IS_GUEST: 0x1, IS_NULL: 0x2, ENCRYPT_DATA: 0x4 } as const;
/** [MS-ERREF 2.3.1] */
export const NtStatus = {
  SUCCESS: 0x00000000,
  MORE_PROCESSING_REQUIRED: 0xc0000016,
  LOGON_FAILURE: 0xc000006d,
  INVALID_PARAMETER: 0xc000000d,
  ACCESS_DENIED: 0xc0000022,
} as const;
export const Dialect = { SMB202: 0x0202, SMB210: 0x0210 } as const;

export interface Smb2Message {
  status: number;
  command: number;
  flags: number;
  messageId: bigint;
  sessionId: bigint;
  signature: Buffer;
  /** The whole message, header included (what the signature covers). */
  raw: Buffer;
  body: Buffer;
}

export interface NegotiateResult {
  dialect: number;
  securityMode: number;
  /** The server's SPNEGO hints (NegTokenInit2); may be empty. */
  securityBlob: Buffer;
}

export interface SessionSetupResult {
  status: number;
  sessionId: bigint;
  sessionFlags: number;
  securityBlob: Buffer;
  message: Smb2Message;
}

function header(command: number, messageId: bigint, sessionId: bigint): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(HEADER_SIZE, 4);
  h.writeUInt16LE(command, 12);
  h.writeUInt16LE(1, 14); // CreditRequest
  h.writeBigUInt64LE(messageId, 24);
  h.writeBigUInt64LE(sessionId, 40);
  return h;
}

function parseMessage(raw: Buffer): Smb2Message {
  if (raw.length < HEADER_SIZE || raw.readUInt32BE(0) !== 0xfe534d42) throw new Error('SMB2: not an SMB2 message');
  return {
    status: raw.readUInt32LE(8),
    command: raw.readUInt16LE(12),
    flags: raw.readUInt32LE(16),
    messageId: raw.readBigUInt64LE(24),
    sessionId: raw.readBigUInt64LE(40),
    signature: Buffer.from(raw.subarray(48, 64)),
    raw,
    body: raw.subarray(HEADER_SIZE),
  };
}

/** SMB 2.0.2 / 2.1 signature: HMAC-SHA256(SessionKey, message with Signature zeroed)[0..16]. */
export function smb2Signature(raw: Buffer, sessionKey: Buffer): Buffer {
  const copy = Buffer.from(raw);
  copy.fill(0, 48, 64);
  return createHmac('sha256', sessionKey.subarray(0, 16)).update(copy).digest().subarray(0, 16);
}

export class Smb2Connection {
  private readonly socket: Socket;
  private pending = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private nextMessageId = 0n;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      // Direct TCP transport: 0x00 + 24-bit big-endian length [MS-SMB2 2.1].
      while (this.pending.length >= 4) {
        const len = this.pending.readUInt32BE(0) & 0xffffff;
        if (this.pending.length < 4 + len) break;
        this.frames.push(this.pending.subarray(4, 4 + len));
        this.pending = this.pending.subarray(4 + len);
      }
      this.waiter?.();
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.failure ??= new Error('SMB2: connection closed');
      this.waiter?.();
    });
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<Smb2Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`SMB2: no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new Smb2Connection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  async negotiate(dialect: number = Dialect.SMB210, securityMode = Smb2SecurityMode.SIGNING_REQUIRED): Promise<NegotiateResult> {
    const body = Buffer.alloc(38);
    body.writeUInt16LE(36, 0); // StructureSize
    body.writeUInt16LE(1, 2); // DialectCount
    body.writeUInt16LE(securityMode, 4);
    randomBytes(16).copy(body, 12); // ClientGuid
    body.writeUInt16LE(dialect, 36);
    const res = await this.request(Smb2Command.NEGOTIATE, 0n, body);
    if (res.status !== NtStatus.SUCCESS) throw new Error(`SMB2 NEGOTIATE failed: 0x${res.status.toString(16)}`);
    const b = res.body;
    const offset = b.readUInt16LE(56);
    const length = b.readUInt16LE(58);
    return { securityMode: b.readUInt16LE(2), dialect: b.readUInt16LE(4), securityBlob: Buffer.from(res.raw.subarray(offset, offset + length)) };
  }

  async sessionSetup(securityBlob: Buffer, sessionId: bigint, securityMode = Smb2SecurityMode.SIGNING_REQUIRED): Promise<SessionSetupResult> {
    const fixed = Buffer.alloc(24);
    fixed.writeUInt16LE(25, 0); // StructureSize (includes one byte of Buffer)
    fixed.writeUInt8(securityMode, 3);
    fixed.writeUInt16LE(HEADER_SIZE + 24, 12); // SecurityBufferOffset
    fixed.writeUInt16LE(securityBlob.length, 14);
    const res = await this.request(Smb2Command.SESSION_SETUP, sessionId, Buffer.concat([fixed, securityBlob]));
    let blob = Buffer.alloc(0);
    let sessionFlags = 0;
    if (res.body.length >= 8 && res.body.readUInt16LE(0) === 9) {
      sessionFlags = res.body.readUInt16LE(2);
      const offset = res.body.readUInt16LE(4);
      const length = res.body.readUInt16LE(6);
      blob = Buffer.from(res.raw.subarray(offset, offset + length));
    }
    return { status: res.status, sessionId: res.sessionId, sessionFlags, securityBlob: blob, message: res };
  }

  private async request(command: number, sessionId: bigint, body: Buffer, timeoutMs = 10_000): Promise<Smb2Message> {
    const messageId = this.nextMessageId++;
    const msg = Buffer.concat([header(command, messageId, sessionId), body]);
    const frame = Buffer.alloc(4);
    frame.writeUInt32BE(msg.length);
    this.socket.write(Buffer.concat([frame, msg]));
    const end = Date.now() + timeoutMs;
    for (;;) {
      const raw = this.frames.shift();
      if (raw) {
        const m = parseMessage(raw);
        // Interim STATUS_PENDING responses are not expected for these two commands.
        if (m.messageId === messageId) return m;
        continue;
      }
      if (this.failure) throw this.failure;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`SMB2: no reply to command ${command} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }
}
