/**
 * A LocalAuthority over a temp smbpasswd file holding known accounts: what our acceptor checks
 * the real clients against. NT hashes come from src/ntlm/crypto.ts ntowfv1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalAuthority, type LocalAuthorityOptions } from '../../src/authority/local/index.js';
import { formatLine, type AccountFlag } from '../../src/authority/local/smbpasswd.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';

export interface TestAccount {
  name: string;
  password: string;
  /** smbpasswd account flags. Default ['U']. */
  flags?: AccountFlag[];
}

export interface LocalAuthorityFixture {
  authority: LocalAuthority;
  file: string;
  /** The NetBIOS domain the authority reports. */
  domain: string;
  cleanup(): Promise<void>;
}

/** `options` go to LocalAuthority as they are (e.g. allowNtlmV1). */
export function makeLocalAuthority(accounts: TestAccount[], domain = 'RASGATE', options: Omit<LocalAuthorityOptions, 'file' | 'domain'> = {}): LocalAuthorityFixture {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-interop-'));
  const file = join(dir, 'smbpasswd');
  const lines = accounts.map((a, i) =>
    formatLine({ name: a.name, uid: 20_000 + i, ntHash: ntowfv1(a.password), hasLmHash: false, flags: new Set(a.flags ?? ['U']), lastChange: 0x5f5e1000 }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  const authority = new LocalAuthority({ ...options, file, domain });
  return {
    authority,
    file,
    domain,
    async cleanup() {
      await authority.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
