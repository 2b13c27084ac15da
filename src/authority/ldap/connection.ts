/**
 * One LDAP connection: TCP or TLS (ldaps://, or StartTLS on ldap://), messages framed across
 * reads, requests matched to responses by messageID, connect and response timeouts. The only
 * I/O in src/authority/ldap; encoding and decoding stay pure in messages.ts.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { LdapFramer } from './framing.js';
import { decodeResponse, extendedRequest, searchRequest, unbindRequest, type LdapResponse, type LdapResult, type SearchOptions } from './messages.js';
import { OID, ResultCode } from './constants.js';
import { LdapConnectionError, LdapProtocolError } from './errors.js';
import type { LdapUrl } from './url.js';

export interface LdapTlsOptions {
  /** PEM CA certificates to trust (instead of the system store). Default: the system store. */
  ca?: string | Buffer;
  /** Name the certificate must carry. Default: the URL's host. */
  servername?: string;
  /** Check the certificate. Default true; false is for labs only and is logged loudly by the caller. */
  rejectUnauthorized?: boolean;
}

export interface LdapConnectOptions {
  /** Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Default 10000 ms per request. */
  responseTimeoutMs?: number;
  tls?: LdapTlsOptions;
  /** Largest LDAP message accepted. Default 1 MiB. */
  maxMessageBytes?: number;
  signal?: AbortSignal;
}

export interface SearchResult {
  entries: Array<{ objectName: string; attributes: Map<string, Buffer[]> }>;
  result: LdapResult;
}

interface Pending {
  resolve(r: LdapResponse[]): void;
  reject(e: Error): void;
  collected: LdapResponse[];
  /** Single-response operations end at the first response; searches at SearchResultDone. */
  multi: boolean;
  timer: NodeJS.Timeout;
}

function tlsOptions(url: LdapUrl, tls: LdapTlsOptions | undefined): ConnectionOptions {
  const servername = tls?.servername ?? url.host;
  return {
    ...(tls?.ca ? { ca: tls.ca } : {}),
    // SNI must not be an IP address (RFC 6066 section 3); the identity check still uses servername.
    ...(/^[\d.]+$|:/.test(servername) ? {} : { servername }),
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    host: servername,
  };
}

export class LdapConnection {
  private stream: Socket | TLSSocket;
  private framer: LdapFramer;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private closed: Error | undefined;
  private readonly responseTimeoutMs: number;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (): void => this.fail(new LdapConnectionError('LDAP_CLOSED', `${this.url.href} closed the connection`));
  private readonly onError = (err: Error): void =>
    this.fail(new LdapConnectionError(err.message.includes('certificate') || 'reason' in err ? 'LDAP_TLS' : 'LDAP_CLOSED', `${this.url.href}: ${err.message}`, { cause: err }));

  private constructor(
    readonly url: LdapUrl,
    stream: Socket | TLSSocket,
    private readonly options: LdapConnectOptions,
  ) {
    this.stream = stream;
    this.framer = new LdapFramer(options.maxMessageBytes);
    this.responseTimeoutMs = options.responseTimeoutMs ?? 10_000;
    this.attach(stream);
  }

  /** Open a connection (TLS for ldaps://). Rejects with LdapConnectionError (LDAP_CONNECT, LDAP_TIMEOUT, LDAP_TLS). */
  static connect(url: LdapUrl, options: LdapConnectOptions = {}): Promise<LdapConnection> {
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const stream = url.secure
        ? tlsConnect({ port: url.port, ...tlsOptions(url, options.tls), host: url.host })
        : tcpConnect({ host: url.host, port: url.port });
      const ready = url.secure ? 'secureConnect' : 'connect';
      const done = (err?: Error): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        stream.off(ready, onReady);
        stream.off('error', onErr);
        if (err) {
          stream.destroy();
          reject(err);
        } else resolve(new LdapConnection(url, stream, options));
      };
      const onReady = (): void => {
        // Small request/answer exchanges: Nagle + delayed ACK would add ~40 ms per bind.
        stream.setNoDelay(true);
        done();
      };
      const onErr = (err: Error): void =>
        done(new LdapConnectionError(url.secure && (err as { reason?: string }).reason !== undefined ? 'LDAP_TLS' : 'LDAP_CONNECT', `${url.href}: ${err.message}`, { cause: err }));
      const onAbort = (): void => done(new LdapConnectionError('LDAP_ABORTED', `${url.href}: aborted`));
      const timer = setTimeout(() => done(new LdapConnectionError('LDAP_TIMEOUT', `${url.href}: no connection after ${timeoutMs} ms`)), timeoutMs);
      stream.once(ready, onReady);
      stream.once('error', onErr);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** A connection kept ready for later must not keep the process alive; one in use does. */
  setIdle(idle: boolean): void {
    if (idle) this.stream.unref();
    else this.stream.ref();
  }

  /** Send one request whose answer is a single message (bind, extended). */
  async request(build: (messageId: number) => Buffer, signal?: AbortSignal): Promise<LdapResponse> {
    const [r] = await this.send(build, false, signal);
    return r!;
  }

  async search(s: SearchOptions, signal?: AbortSignal): Promise<SearchResult> {
    const all = await this.send((id) => searchRequest(id, s), true, signal);
    const entries: SearchResult['entries'] = [];
    let result: LdapResult | undefined;
    for (const r of all) {
      if (r.type === 'searchEntry') entries.push({ objectName: r.objectName, attributes: r.attributes });
      else if (r.type === 'searchDone') result = r.result;
    }
    return { entries, result: result! };
  }

  /** StartTLS (RFC 4511 section 4.14) and then TLS on the same socket. */
  async startTls(tls: LdapTlsOptions | undefined, signal?: AbortSignal): Promise<void> {
    const r = await this.request((id) => extendedRequest(id, OID.StartTls), signal);
    if (r.type !== 'extendedResponse') throw new LdapProtocolError('LDAP_BAD_MESSAGE', `StartTLS answered with ${r.type}`);
    if (r.result.resultCode !== ResultCode.Success) throw new LdapConnectionError('LDAP_RESULT', `StartTLS refused: resultCode ${r.result.resultCode} ${r.result.diagnosticMessage}`);
    const raw = this.stream as Socket;
    this.detach(raw);
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, ...tlsOptions(this.url, tls) });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new LdapConnectionError('LDAP_TIMEOUT', `${this.url.href}: TLS handshake timed out`));
      }, this.options.connectTimeoutMs ?? 5000);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.off('error', onErr);
        resolve(s);
      });
      const onErr = (err: Error): void => {
        clearTimeout(timer);
        reject(new LdapConnectionError('LDAP_TLS', `${this.url.href}: ${err.message}`, { cause: err }));
      };
      s.once('error', onErr);
    }).catch((err: Error) => {
      this.fail(err);
      raw.destroy();
      throw err;
    });
    this.stream = secure;
    this.attach(secure);
  }

  /** UnbindRequest (best effort) and close. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.stream.write(unbindRequest(this.nextId++));
    } catch {
      // closing anyway
    }
    this.stream.end();
    this.fail(new LdapConnectionError('LDAP_CLOSED', `${this.url.href}: connection closed by us`));
    setTimeout(() => this.stream.destroy(), 1000).unref();
  }

  /** Drop at once (abort). */
  destroy(): void {
    this.fail(new LdapConnectionError('LDAP_ABORTED', `${this.url.href}: aborted`));
    this.stream.destroy();
  }

  private send(build: (messageId: number) => Buffer, multi: boolean, signal?: AbortSignal): Promise<LdapResponse[]> {
    if (this.closed) return Promise.reject(this.closed);
    if (signal?.aborted) return Promise.reject(new LdapConnectionError('LDAP_ABORTED', `${this.url.href}: aborted`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.destroy();
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(() => {
        finish();
        // A late answer would confuse the next request on this connection: drop it.
        const err = new LdapConnectionError('LDAP_TIMEOUT', `${this.url.href}: no answer in ${this.responseTimeoutMs} ms`);
        reject(err);
        this.fail(err);
        this.stream.destroy();
      }, this.responseTimeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          finish();
          resolve(r);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
        collected: [],
        multi,
        timer,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.stream.write(build(id));
    });
  }

  private receive(chunk: Buffer): void {
    try {
      for (const bytes of this.framer.feed(chunk)) this.dispatch(decodeResponse(bytes, { maxLength: this.options.maxMessageBytes }));
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      this.stream.destroy();
    }
  }

  private dispatch(r: LdapResponse): void {
    if (r.messageId === 0) {
      // Unsolicited notification (RFC 4511 section 4.4): the server is going away.
      throw new LdapConnectionError('LDAP_CLOSED', `${this.url.href}: notice of disconnection (${r.type === 'extendedResponse' ? r.result.diagnosticMessage : r.type})`);
    }
    const p = this.pending.get(r.messageId);
    if (!p) throw new LdapProtocolError('LDAP_BAD_MESSAGE', `answer to unknown messageID ${r.messageId}`);
    if (!p.multi) return p.resolve([r]);
    if (r.type !== 'searchEntry' && r.type !== 'searchReference' && r.type !== 'searchDone')
      throw new LdapProtocolError('LDAP_BAD_MESSAGE', `search answered with ${r.type}`);
    p.collected.push(r);
    if (r.type === 'searchDone') p.resolve(p.collected);
  }

  private fail(err: Error): void {
    if (!this.closed) this.closed = err;
    for (const p of [...this.pending.values()]) p.reject(err);
    this.pending.clear();
  }

  private attach(s: Socket | TLSSocket): void {
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', this.onError);
  }

  private detach(s: Socket | TLSSocket): void {
    s.off('data', this.onData);
    s.off('close', this.onClose);
    s.off('error', this.onError);
  }
}
