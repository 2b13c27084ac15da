/**
 * Our acceptor <- Chromium's own NTLM (net/ntlm, the code Chrome uses on Linux), driven by
 * playwright-core with httpCredentials against the HTTP harness. Chromium's AUTHENTICATE is a
 * path no other peer here takes: MIC announced (MsvAvFlags 0x2) WITHOUT KEY_EXCH, so the MIC key
 * is the SessionBaseKey itself; MsvAvTargetName "HTTP/127.0.0.1:<port>"; Z(16) channel bindings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { AvId, Layout, MsvAvFlag, NegotiateFlags, SEC_E_LOGON_DENIED, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName, type CredentialHandle } from '../../src/ntlm/index.js';
import { makeLocalAuthority, type LocalAuthorityFixture } from '../../scripts/interop/local-authority-fixture.js';
import { ourAcceptSession, ourCredential } from '../../scripts/interop/our-acceptor.js';
import { startHttpNtlmServer, type HttpNtlmServer, type HttpNtlmServerOptions } from '../../scripts/interop/http-ntlm-server.js';
import { blobAvPairOffset, payloadStart } from '../../scripts/interop/token-bytes.js';
import { needs, toolPath } from '../helpers/tools.js';

const USER = 'frank';
const PASSWORD = 'Chr0mium-pw';
const DOMAIN = 'RASGATE';

describe('our acceptor <- Chromium (playwright-core httpCredentials)', { skip: needs('chromium') }, () => {
  let fx: LocalAuthorityFixture;
  let credential: CredentialHandle;
  let browser: Browser;
  const servers: HttpNtlmServer[] = [];

  before(async () => {
    fx = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN);
    credential = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
    // Chromium refuses to run as root with its sandbox on.
    browser = await chromium.launch({ executablePath: toolPath('chromium'), args: process.getuid?.() === 0 ? ['--no-sandbox'] : [], timeout: 20_000 });
  });
  after(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    await fx?.cleanup();
  });

  async function server(extra: Partial<HttpNtlmServerOptions> = {}): Promise<HttpNtlmServer> {
    const s = await startHttpNtlmServer({ newSession: () => ourAcceptSession(credential), continueStatus: SEC_I_CONTINUE_NEEDED, okStatus: SEC_E_OK, ...extra });
    servers.push(s);
    return s;
  }

  /** One page load with these credentials; the HTTP status, or the navigation error. */
  async function visit(url: string, password: string): Promise<number | string> {
    const context = await browser.newContext({ httpCredentials: { username: `${DOMAIN}\\${USER}`, password } });
    try {
      const page = await context.newPage();
      const response = await page.goto(url, { timeout: 15_000 }).catch((err: Error) => err);
      return response instanceof Error ? response.message.split('\n')[0]! : (response?.status() ?? 'no response');
    } finally {
      await context.close();
    }
  }

  test('right password: 200, SEC_E_OK naming the user; the token has an announced MIC and no KEY_EXCH', async () => {
    const http = await server();
    assert.equal(await visit(http.url, PASSWORD), 200);
    const first = http.outcomes[0]!;
    assert.equal(first.status, SEC_E_OK, statusName(first.status));
    assert.equal(first.user, USER);
    const authenticate = first.tokens[1]!;
    assert.ok(payloadStart(authenticate) >= Layout.AUTHENTICATE_WITH_MIC, 'MIC slot');
    const flagsAt = blobAvPairOffset(authenticate, AvId.MsvAvFlags) + 4;
    assert.ok(authenticate.readUInt32LE(flagsAt) & MsvAvFlag.MIC_PRESENT, 'MIC announced');
    assert.equal(authenticate.readUInt32LE(60) & NegotiateFlags.NEGOTIATE_KEY_EXCH, 0, 'no key exchange');
    // Any later request (favicon) on a new connection logs in again: all of them must be OK.
    assert.ok(http.outcomes.every((o) => o.status === SEC_E_OK));
  });

  test('wrong password: SEC_E_LOGON_DENIED, the page does not load', async () => {
    const http = await server();
    const result = await visit(http.url, `${PASSWORD}!`);
    assert.notEqual(result, 200);
    assert.deepEqual([...new Set(http.outcomes.map((o) => o.status))], [SEC_E_LOGON_DENIED]);
  });

  test("one byte of Chromium's MIC flipped on the way in: SEC_E_LOGON_DENIED", async () => {
    const http = await server({
      tamper: (token, leg) => {
        if (leg !== 1) return token;
        const forged = Buffer.from(token);
        forged[Layout.MIC_OFFSET]! ^= 0x80;
        return forged;
      },
    });
    assert.notEqual(await visit(http.url, PASSWORD), 200);
    assert.ok(http.outcomes.length > 0);
    assert.deepEqual([...new Set(http.outcomes.map((o) => `${statusName(o.status)} ${o.reason}`))], ['SEC_E_LOGON_DENIED bad-mic']);
  });
});
