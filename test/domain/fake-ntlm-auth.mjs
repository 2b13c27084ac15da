#!/usr/bin/env node
// A stand-in for `ntlm_auth --helper-protocol=ntlm-server-1` (framing as Samba's ntlm_auth.c),
// behaving by user name: alice ok with a key; wrong -> WRONG_PASSWORD text; hang -> no answer;
// die -> exit mid-request (once per FAKE_DIE_FLAG file if set); garbage -> unframed line.
import { createInterface } from 'node:readline';
import { existsSync, writeFileSync } from 'node:fs';

let fields = {};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== '.') {
    const m = /^([A-Za-z-]+)(::?) ?(.*)$/.exec(line);
    if (m) fields[m[1]] = m[2] === '::' ? Buffer.from(m[3], 'base64').toString('utf8') : m[3];
    return;
  }
  const user = fields.Username;
  fields = {};
  if (user === 'hang') return;
  if (user === 'die') {
    const flag = process.env.FAKE_DIE_FLAG;
    if (!flag || !existsSync(flag)) {
      if (flag) writeFileSync(flag, '1');
      process.exit(1);
    }
    process.stdout.write('Authenticated: Yes\nUser-Session-Key: 000102030405060708090a0b0c0d0e0f\n.\n');
    return;
  }
  if (user === 'garbage') return void process.stdout.write('what is this\n.\n');
  if (user === 'alice') return void process.stdout.write('Authenticated: Yes\nUser-Session-Key: 000102030405060708090A0B0C0D0E0F\n.\n');
  process.stdout.write('Authenticated: No\nAuthentication-Error: When trying to update a password, this return status indicates that the value provided as the current password is not correct.\n.\n.\n');
});
