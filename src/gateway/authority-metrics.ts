/**
 * The authority seen through the metrics: every verify and relay is timed and counted by
 * server and result (ok, denied, unavailable). `server` is the configured server a relay
 * reached (RelayExchange.server, an ldap URL) or the authority's type (local, winbind): values
 * from the configuration, never from a caller. The wrapper changes no answer.
 */
import type { Authority, AuthorityVerdict, RelayExchange } from '../ntlm/authority.js';
import type { Metrics } from '../observe/metrics.js';

export function measuredAuthority(authority: Authority, metrics: Pick<Metrics, 'authorityRequest'>): Authority {
  const note = (server: string, started: number, result: AuthorityVerdict['result']) => {
    try {
      metrics.authorityRequest(server, result, (performance.now() - started) / 1000);
    } catch {
      // metrics only listen
    }
  };
  const timed = async (server: () => string, run: () => Promise<AuthorityVerdict>): Promise<AuthorityVerdict> => {
    const started = performance.now();
    try {
      const verdict = await run();
      note(server(), started, verdict.result);
      return verdict;
    } catch (err) {
      note(server(), started, 'unavailable');
      throw err;
    }
  };
  // A plain object of its own: the authority's methods keep running on the authority itself.
  const wrapped: Authority = {
    type: authority.type,
    ...(authority.allowNtlmV1 !== undefined ? { allowNtlmV1: authority.allowNtlmV1 } : {}),
    close: () => authority.close(),
    ...(authority.reload ? { reload: () => authority.reload!() } : {}),
  };
  if (authority.verify) {
    const verify = authority.verify.bind(authority);
    wrapped.verify = (check, signal) => timed(() => authority.type, () => verify(check, signal));
  }
  if (authority.verifySync) {
    const verifySync = authority.verifySync.bind(authority);
    wrapped.verifySync = (check) => {
      const started = performance.now();
      const verdict = verifySync(check);
      if (verdict) note(authority.type, started, verdict.result);
      return verdict;
    };
  }
  if (authority.relay) {
    const relay = authority.relay.bind(authority);
    wrapped.relay = async (negotiate, signal): Promise<RelayExchange> => {
      const started = performance.now();
      let exchange: RelayExchange;
      try {
        exchange = await relay(negotiate, signal);
      } catch (err) {
        note(authority.type, started, 'unavailable');
        throw err;
      }
      const server = exchange.server ?? authority.type;
      return {
        challenge: exchange.challenge,
        server,
        authenticate: (authenticate, s) => timed(() => server, () => exchange.authenticate(authenticate, s)),
        abort: () => exchange.abort(),
      };
    };
  }
  return wrapped;
}
