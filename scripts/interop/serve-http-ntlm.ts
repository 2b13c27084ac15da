/**
 * Manual interop: the HTTP NTLM harness over our acceptor and a real smbpasswd file, for trying
 * clients by hand (browsers, Windows, cntlm, ...). Loopback only.
 *
 *   node --import tsx scripts/interop/serve-http-ntlm.ts --file ./smbpasswd [--domain RASGATE] [--port 8080]
 *   curl --ntlm -u 'RASGATE\alice:password' http://127.0.0.1:8080/
 */
import { parseArgs } from 'node:util';
import { LocalAuthority } from '../../src/authority/local/index.js';
import { SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../../src/ntlm/index.js';
import { startHttpNtlmServer } from './http-ntlm-server.js';
import { ourAcceptSession, ourCredential } from './our-acceptor.js';

const { values } = parseArgs({ options: { file: { type: 'string' }, domain: { type: 'string' }, port: { type: 'string' } } });
if (!values.file) {
  console.error('usage: serve-http-ntlm.ts --file SMBPASSWD [--domain NAME] [--port N]');
  process.exit(2);
}
const authority = new LocalAuthority({ file: values.file, ...(values.domain ? { domain: values.domain } : {}) });
const credential = ourCredential(authority);
const server = await startHttpNtlmServer({
  newSession: () => ourAcceptSession(credential),
  continueStatus: SEC_I_CONTINUE_NEEDED,
  okStatus: SEC_E_OK,
  ...(values.port ? { port: Number(values.port) } : {}),
  onOutcome: (o) => console.log(`${statusName(o.status)}${o.user ? ` ${o.domain}\\${o.user}` : ''}`),
});
console.log(`listening on ${server.url} (domain ${authority.domain}); Ctrl-C to stop`);
process.once('SIGINT', () => void server.close().then(() => process.exit(0)));
