/**
 * Both domain authorities against a real Samba AD DC (scripts/samba-dc.sh) in a network
 * namespace: our client builds the tokens, acceptSecurityContext runs the legs, the authority
 * asks the DC. Everything that talks to the DC runs inside the namespace (test/domain/driver.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, needsDc, startDc, stopDc, type DcInfo } from './dc.js';

const skip = needsDc();
// RASGATE_DC_PREFIX names the DC (namespace, /tmp tree) so that parallel runs by several people never meet.
const NAME = `${process.env.RASGATE_DC_PREFIX ?? 'rgdc'}-${process.pid}`;
const SEC_E_LOGON_DENIED = '8009030c';
const SEC_E_NO_AUTHENTICATING_AUTHORITY = '80090311';

let dc: DcInfo;
let driver: Driver;

interface Login {
  ok: boolean;
  status: string;
  reason: string;
  denyReason?: string;
  identity?: { user: string; domain: string };
}

const STATES: Array<[user: string, denyReason: string, workstation?: string]> = [
  ['disabled', 'account-disabled'],
  ['expired', 'account-expired'],
  ['locked', 'account-locked'],
  ['mustchange', 'password-must-change'],
  ['pwexpired', 'password-expired'],
  ['hours', 'logon-hours'],
  ['workstation', 'workstation-restricted', 'WS1'],
];

describe('domain authorities against a real Samba AD DC', { skip }, () => {
  before(async () => {
    dc = startDc(NAME);
    driver = new Driver(NAME);
    const tls = { caFile: `${dc.DC_DIR}/private/tls/ca.pem`, tlsServername: 'dc1.example.test' };
    const service = { bindDn: `Administrator@${dc.DC_REALM.toLowerCase()}`, bindPassword: dc.DC_ADMIN_PASSWORD, ...tls };
    const make = async (name: string, config: Record<string, unknown>): Promise<void> => {
      const r = await driver.call({ op: 'authority', name, config });
      assert.ok(r.ok, r.error);
    };
    await make('ldap', { type: 'ldap', servers: ['ldap://127.0.0.1'], ...tls });
    await make('ldapPolicy', { type: 'ldap', servers: ['ldap://127.0.0.1'], ...service });
    await make('ldapGroup', { type: 'ldap', servers: ['ldap://127.0.0.1'], ...service, requiredGroup: dc.DC_GROUP });
    await make('ldapDeny', { type: 'ldap', servers: ['ldap://127.0.0.1'], ...service, dialinDefault: 'deny' });
    await make('ldaps', { type: 'ldap', servers: ['ldaps://127.0.0.1'], ...service });
    await make('winbind', { type: 'winbind', domain: dc.DC_DOMAIN });
    await make('winbindGroup', { type: 'winbind', domain: dc.DC_DOMAIN, requiredGroup: `${dc.DC_DOMAIN}\\${dc.DC_GROUP}` });
  });

  after(async () => {
    await driver?.close();
    stopDc(NAME);
  });

  const login = (name: string, user: string, password = dc.DC_PASSWORD, extra: Record<string, unknown> = {}): Promise<Login> =>
    driver.call<Login>({ op: 'login', name, user, password, domain: dc.DC_DOMAIN, ...extra });

  for (const kind of ['ldap', 'winbind']) {
    describe(`authority: ${kind}`, () => {
      test('right password logs in, with the directory spelling of the domain', async () => {
        const r = await login(kind, 'alice');
        assert.equal(r.status, '0', JSON.stringify(r));
        assert.equal(r.identity?.user.toLowerCase(), 'alice');
        assert.equal(r.identity?.domain, dc.DC_DOMAIN);
      });
      test('wrong password and unknown user are the same bad-credentials', async () => {
        for (const [user, pw] of [['alice', 'wrong-pass'], ['nosuchuser', dc.DC_PASSWORD]] as const) {
          const r = await login(kind, user, pw);
          assert.equal(r.status, SEC_E_LOGON_DENIED, JSON.stringify(r));
          assert.equal(r.denyReason, 'bad-credentials');
        }
      });
      test('every account state maps to its DenyReason', async () => {
        for (const [user, reason, workstation] of STATES) {
          const r = await login(kind, user, dc.DC_PASSWORD, workstation ? { workstation } : {});
          assert.equal(r.status, SEC_E_LOGON_DENIED, `${user}: ${JSON.stringify(r)}`);
          assert.equal(r.denyReason, reason, user);
        }
      });
      test('required group: direct and nested members in, others out', async () => {
        const group = kind === 'ldap' ? 'ldapGroup' : 'winbindGroup';
        assert.equal((await login(group, 'alice')).status, '0');
        assert.equal((await login(group, 'nested')).status, '0');
        const out = await login(group, 'bob');
        assert.equal(out.status, SEC_E_LOGON_DENIED);
        assert.equal(out.denyReason, 'not-member');
      });
    });
  }

  describe('ldap dial-in policy (msNPAllowDialin) and transport', () => {
    test('FALSE refuses with no-dialin-permission; TRUE and absent follow the attribute / default allow', async () => {
      const no = await login('ldapPolicy', 'nodialin');
      assert.equal(no.denyReason, 'no-dialin-permission');
      assert.equal((await login('ldapPolicy', 'alice')).status, '0');
      assert.equal((await login('ldapPolicy', 'bob')).status, '0');
    });
    test('a UPN logon (user@realm, no domain) is looked up and reported by sAMAccountName', async () => {
      const r = await driver.call<Login>({ op: 'login', name: 'ldapPolicy', user: `alice@${dc.DC_REALM.toLowerCase()}`, password: dc.DC_PASSWORD, domain: '' });
      assert.equal(r.status, '0', JSON.stringify(r));
      assert.equal(r.identity?.user, 'alice');
      assert.equal(r.identity?.domain, dc.DC_DOMAIN);
    });
    test('dialinDefault deny refuses an absent attribute but not TRUE', async () => {
      assert.equal((await login('ldapDeny', 'bob')).denyReason, 'no-dialin-permission');
      assert.equal((await login('ldapDeny', 'alice')).status, '0');
    });
    test('transport follows the NEGOTIATE: without SIGN it goes over StartTLS, where Samba checks the password but by default refuses the session', async () => {
      const r = await login('ldap', 'alice', dc.DC_PASSWORD, { noSign: true });
      assert.equal(r.status, SEC_E_NO_AUTHENTICATING_AUTHORITY, JSON.stringify(r));
      const bad = await login('ldap', 'alice', 'wrong-pass', { noSign: true });
      assert.equal(bad.denyReason, 'bad-credentials', JSON.stringify(bad));
    });
    test('ldaps://: a SIGN client is refused by the DC (no signing inside TLS): an outage, never a denial', async () => {
      const r = await login('ldaps', 'alice');
      assert.equal(r.status, SEC_E_NO_AUTHENTICATING_AUTHORITY, JSON.stringify(r));
    });
    test('certificate checking is on: a wrong CA fails the policy lookup as an outage', async () => {
      const r = await driver.call({ op: 'authority', name: 'badCa', config: { type: 'ldap', servers: ['ldaps://127.0.0.1'], bindDn: 'x@example.test', bindPassword: 'x', caFile: '/etc/ssl/certs/ca-certificates.crt', tlsServername: 'dc1.example.test' } });
      assert.ok(r.ok);
      const l = await login('badCa', 'alice');
      assert.equal(l.status, SEC_E_NO_AUTHENTICATING_AUTHORITY, JSON.stringify(l));
    });
  });

  describe('ldap failover and broken servers', () => {
    test('[refused, hanging, real]: fails over to the real DC and marks the others dead', async () => {
      const refused = (await driver.call<{ port: number }>({ op: 'fake', kind: 'refused' })).port;
      const hang = (await driver.call<{ port: number }>({ op: 'fake', kind: 'hang' })).port;
      const servers = [`ldap://127.0.0.1:${refused}`, `ldap://127.0.0.1:${hang}`, 'ldap://127.0.0.1'];
      // The hanging DC costs one response timeout; it is wide, so that the real DC answers within it on a loaded machine.
      await driver.call({ op: 'authority', name: 'fo', config: { type: 'ldap', servers, responseTimeoutMs: 5000, connectTimeoutMs: 5000, retryDeadAfterMs: 600_000, warmConnections: 0 } });
      const r = await login('fo', 'alice');
      assert.equal(r.status, '0', JSON.stringify(r));
      const h = await driver.call<{ health: Array<{ server: string; up: boolean }> }>({ op: 'health', name: 'fo' });
      assert.deepEqual(h.health.map((x) => x.up), [false, false, true]);
      // Dead DCs are skipped now: the next login goes straight to the real one (the hanging one is not asked again).
      const tried = (await driver.call<{ count: number }>({ op: 'accepted', port: hang })).count;
      assert.ok(tried >= 1, 'the hanging DC was tried first');
      const again = await login('fo', 'alice');
      assert.equal(again.status, '0');
      assert.equal((await driver.call<{ count: number }>({ op: 'accepted', port: hang })).count, tried, 'dead DCs were not retried within retryDeadAfterMs');
    });
    test('only a hanging DC: an outage after the response timeout', async () => {
      const hang = (await driver.call<{ port: number }>({ op: 'fake', kind: 'hang' })).port;
      await driver.call({ op: 'authority', name: 'hang', config: { type: 'ldap', servers: [`ldap://127.0.0.1:${hang}`], responseTimeoutMs: 200 } });
      const r = await login('hang', 'alice');
      assert.equal(r.status, SEC_E_NO_AUTHENTICATING_AUTHORITY, JSON.stringify(r));
    });
    test('a malformed LDAP reply is an outage', async () => {
      const bad = (await driver.call<{ port: number }>({ op: 'fake', kind: 'malformed' })).port;
      await driver.call({ op: 'authority', name: 'bad', config: { type: 'ldap', servers: [`ldap://127.0.0.1:${bad}`] } });
      const r = await login('bad', 'alice');
      assert.equal(r.status, SEC_E_NO_AUTHENTICATING_AUTHORITY, JSON.stringify(r));
    });
  });

  describe('winbind helper lifecycle', () => {
    test('ntlm_auth killed mid-request: that request is an outage, the queued one succeeds after the restart', async () => {
      const r = await driver.call<{ killed: number; inFlight: Login; queued: Login }>({ op: 'loginKill', name: 'winbind', user: 'alice', password: dc.DC_PASSWORD, domain: dc.DC_DOMAIN, afterMs: 0 });
      assert.ok(r.ok, r.error);
      assert.ok(r.killed > 0);
      assert.ok(['0', SEC_E_NO_AUTHENTICATING_AUTHORITY].includes(r.inFlight.status), JSON.stringify(r.inFlight));
      assert.equal(r.queued.status, '0', JSON.stringify(r.queued));
      assert.equal((await login('winbind', 'alice')).status, '0');
    });
    test('a helper that cannot start: requests time out as outages', async () => {
      await driver.call({ op: 'authority', name: 'wbMissing', config: { type: 'winbind', ntlmAuthPath: '/nonexistent/ntlm_auth', requestTimeoutMs: 300, restartMinMs: 50 } });
      const r = await login('wbMissing', 'alice');
      assert.equal(r.status, SEC_E_NO_AUTHENTICATING_AUTHORITY, JSON.stringify(r));
    });
  });
});
