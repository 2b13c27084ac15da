#!/usr/bin/env node
// A caller on a TCP line: answers "login: " and "Password: ", prints everything received
// (telnet negotiation bytes stripped) once the gateway hangs up or prompts again after the
// password (a refused attempt), then hangs up itself. Usage: tcp-caller.mjs PORT LOGIN PASSWORD;
// LOGIN --probe: hang up at the first prompt (is the gateway up?).
import { connect } from 'node:net';

const [port, login, password] = process.argv.slice(2);
let text = '';
let sentLogin = false;
let sentPassword = false;
const sock = connect(Number(port), '127.0.0.1');
const done = () => {
  process.stdout.write(text);
  process.exit(0);
};
sock.on('data', (d) => {
  // Drop IAC sequences (IAC WILL/WONT/DO/DONT x, IAC SB ... IAC SE) and answer nothing: raw is fine.
  const bytes = [];
  for (let i = 0; i < d.length; i++) {
    if (d[i] === 0xff) {
      if (d[i + 1] === 0xfa) {
        while (i < d.length && !(d[i] === 0xff && d[i + 1] === 0xf0)) i++;
        i++;
      } else i += 2;
      continue;
    }
    bytes.push(d[i]);
  }
  text += Buffer.from(bytes).toString('latin1');
  if (login === '--probe' && text.endsWith('login: ')) return done();
  if (sentPassword && text.endsWith('login: ')) return done();
  if (!sentLogin && text.endsWith('login: ')) {
    sentLogin = true;
    sock.write(`${login}\r\n`);
  } else if (sentLogin && !sentPassword && text.endsWith('Password: ')) {
    sentPassword = true;
    sock.write(`${password}\r\n`);
  }
});
sock.on('close', done);
sock.on('error', done);
setTimeout(done, 15000).unref();
