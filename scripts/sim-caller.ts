/**
 * A scripted caller for the simulated modem: dials over the modem's far side and types a
 * user name and password at the prompts, printing what the line says.
 *
 *   # rasgate.yaml: lines: [{ id: sim0, device: "sim://demo?far=tcp://127.0.0.1:2424" }]
 *   node --import tsx scripts/sim-caller.ts --to tcp://127.0.0.1:2424 --number 5551234 \
 *        --user alice --password 'secret' [--domain EXAMPLE] [--name "ALICE SMITH"]
 *
 * Exits 0 when the line hangs up after the dialogue, 1 on timeout or connection error.
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { parseTcpUrl } from '../src/options/address.js';

const { values } = parseArgs({
  options: {
    to: { type: 'string', default: 'tcp://127.0.0.1:2424' },
    number: { type: 'string', default: '5551234' },
    name: { type: 'string' },
    user: { type: 'string', default: 'demo' },
    password: { type: 'string', default: '' },
    domain: { type: 'string' },
    timeout: { type: 'string', default: '120' },
  },
});

const target = parseTcpUrl(values.to!);
if (!target) {
  process.stderr.write(`sim-caller: --to ${values.to} is not tcp://HOST:PORT\n`);
  process.exit(2);
}
const { host, port } = target;
const socket = connect(port, host);
let seen = '';
const steps: Array<{ prompt: RegExp; answer: () => string; label: string }> = [
  { prompt: /(login|user(name)?):\s*$/i, answer: () => values.user!, label: 'user name' },
  { prompt: /password:\s*$/i, answer: () => values.password!, label: 'password' },
  ...(values.domain ? [{ prompt: /domain:\s*$/i, answer: () => values.domain!, label: 'domain' }] : []),
];

const timer = setTimeout(() => {
  process.stderr.write('\n[sim-caller] timed out\n');
  process.exit(1);
}, Number(values.timeout) * 1000);

socket.on('connect', () => {
  process.stderr.write(`[sim-caller] dialling ${values.number} via ${values.to}\n`);
  socket.write(`DIAL ${values.number}${values.name ? ` ${values.name}` : ''}\r\n`);
});
socket.on('data', (chunk: Buffer) => {
  const text = chunk.toString('latin1');
  process.stdout.write(text);
  seen += text;
  const step = steps[0];
  if (step && step.prompt.test(seen)) {
    steps.shift();
    seen = '';
    process.stderr.write(`\n[sim-caller] typing the ${step.label}\n`);
    socket.write(`${step.answer()}\r`);
  }
});
socket.on('error', (err) => {
  process.stderr.write(`[sim-caller] ${err.message}\n`);
  process.exit(1);
});
socket.on('close', () => {
  clearTimeout(timer);
  process.stderr.write('\n[sim-caller] line hung up\n');
  process.exit(0);
});
