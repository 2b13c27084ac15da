/**
 * A scripted caller for the simulated modem: dials over the modem's far side and types a
 * user name and password at the prompts, printing what the line says.
 *
 *   # rasgate.yaml: lines: [{ id: sim0, device: "sim://demo?far=tcp://127.0.0.1:2424" }]
 *   node --import tsx scripts/sim-caller.ts --to tcp://127.0.0.1:2424 --number 5551234 \
 *        --user alice --password 'secret' [--domain EXAMPLE] [--name "ALICE SMITH"] \
 *        [--callback-listen tcp://127.0.0.1:6400] [--callback-number 5551234]
 *
 * With --callback-listen it also waits to be called back: it listens there from the start, and
 * after its own call has ended takes the modem's outgoing call (`ATDT127.0.0.1:6400`, or a dial
 * plan number, src/serial/sim-dial.ts) and plays the same login dialogue on it. With
 * --callback-number it answers the Set By Caller question ("Callback number ...: ") with it.
 *
 * Exits 0 when the line hangs up after the dialogue (after the call back, with --callback-listen),
 * 1 on timeout or connection error.
 */
import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { parseTcpUrl, type TcpAddress } from '../src/options/address.js';

/** A tcp:// argument, or exit 2 naming the option. */
function address(text: string, option: string): TcpAddress {
  const a = parseTcpUrl(text);
  if (a) return a;
  process.stderr.write(`sim-caller: ${option} ${text} is not tcp://HOST:PORT\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    to: { type: 'string', default: 'tcp://127.0.0.1:2424' },
    number: { type: 'string', default: '5551234' },
    name: { type: 'string' },
    user: { type: 'string', default: 'demo' },
    password: { type: 'string', default: '' },
    domain: { type: 'string' },
    timeout: { type: 'string', default: '120' },
    'callback-listen': { type: 'string' },
    'callback-number': { type: 'string' },
  },
});

const say = (text: string) => process.stderr.write(`\n[sim-caller] ${text}\n`);

const timer = setTimeout(() => {
  say('timed out');
  process.exit(1);
}, Number(values.timeout) * 1000);

/** Answer the prompts on one call; `done` when the line hangs up. */
function playDialogue(socket: Socket, done: () => void): void {
  let seen = '';
  const steps: Array<{ prompt: RegExp; answer: () => string; label: string }> = [
    { prompt: /(login|user(name)?):\s*$/i, answer: () => values.user!, label: 'user name' },
    { prompt: /password:\s*$/i, answer: () => values.password!, label: 'password' },
    ...(values.domain ? [{ prompt: /domain:\s*$/i, answer: () => values.domain!, label: 'domain' }] : []),
    ...(values['callback-number'] !== undefined ? [{ prompt: /callback number.*:\s*$/i, answer: () => values['callback-number']!, label: 'callback number' }] : []),
  ];
  socket.on('data', (chunk: Buffer) => {
    const text = chunk.toString('latin1');
    process.stdout.write(text);
    seen += text;
    const step = steps[0];
    if (step && step.prompt.test(seen)) {
      steps.shift();
      seen = '';
      say(`typing the ${step.label}`);
      socket.write(`${step.answer()}\r`);
    }
  });
  socket.on('error', (err) => {
    say(err.message);
    process.exit(1);
  });
  socket.on('close', done);
}

const finish = () => {
  clearTimeout(timer);
  process.exit(0);
};

let callback: { firstCallOver: () => void } | undefined;
if (values['callback-listen']) {
  const at = address(values['callback-listen'], '--callback-listen');
  let firstCallOver = false;
  let answered = false;
  const server = createServer((socket) => {
    // One call back, after our own call: anything else is turned away.
    if (answered || !firstCallOver) return void socket.destroy();
    answered = true;
    server.close();
    say('called back: answering');
    playDialogue(socket, () => {
      say('line hung up after the call back');
      finish();
    });
  });
  server.on('error', (err) => {
    say(`cannot listen for the call back: ${err.message}`);
    process.exit(1);
  });
  server.listen(at.port, at.host, () => say(`waiting for the call back on tcp://${at.host}:${(server.address() as { port: number }).port}`));
  callback = { firstCallOver: () => (firstCallOver = true) };
}

const { host, port } = address(values.to!, '--to');
const socket = connect(port, host);
socket.on('connect', () => {
  say(`dialling ${values.number} via ${values.to}`);
  socket.write(`DIAL ${values.number}${values.name ? ` ${values.name}` : ''}\r\n`);
});
playDialogue(socket, () => {
  say('line hung up');
  if (!callback) return finish();
  callback.firstCallOver();
});
