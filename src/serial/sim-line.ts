/**
 * A modem line on a simulated modem (`device: sim://NAME...`): a DeviceLine whose modem comes
 * from a SimModems registry, set up from the path (dial plan, dial tone), and whose far side
 * (callers over TCP, `far=`) lives as long as the line answers: start() listens, pause() and
 * stop() close it, as a TCP line's listener.
 */
import type { Logger } from '../logging.js';
import { OptionError } from '../errors.js';
import type { TcpAddress } from './address.js';
import { DeviceLine, type DeviceLineOptions } from './device-line.js';
import { openFarSide, type FarSide } from './sim-far-side.js';
import type { SimModem, SimModems } from './sim-modem.js';
import { parseSimPath, SimPathError, type SimPath } from './sim-path.js';

export interface SimModemLineOptions extends DeviceLineOptions {
  simModems: SimModems;
  /** `path`, parsed. */
  sim: SimPath;
}

export class SimModemLine extends DeviceLine {
  readonly simModem: SimModem;
  private readonly far?: TcpAddress;
  private readonly farLog: Logger;
  private farSide?: Promise<FarSide>;

  constructor(options: SimModemLineOptions) {
    super(options);
    this.simModem = options.simModems.get(options.sim.name, options.clock ? { clock: options.clock } : {});
    // The path is the modem's telephone line: its settings apply anew with every line made on it.
    this.simModem.dialPlan = options.sim.dialPlan;
    this.simModem.dialTone = options.sim.dialTone;
    if (options.sim.far) this.far = options.sim.far;
    this.farLog = options.logger.child({ line: options.id });
  }

  /** Where the far side listens while the line answers (the kernel's port for port 0). */
  async farAddress(): Promise<TcpAddress | undefined> {
    return (await this.farSide)?.address;
  }

  override async start(): Promise<void> {
    if (this.far && !this.farSide) {
      const opening = openFarSide(this.simModem, this.far, this.farLog);
      this.farSide = opening;
      opening.catch(() => {
        if (this.farSide === opening) this.farSide = undefined;
      });
      await opening;
    }
    return super.start();
  }

  override pause(): void {
    this.closeFarSide(false);
    super.pause();
  }

  override async stop(): Promise<void> {
    this.closeFarSide(true);
    await super.stop();
  }

  private closeFarSide(hangUp: boolean): void {
    const far = this.farSide;
    this.farSide = undefined;
    void far?.then((f) => f.close(hangUp), () => undefined);
  }
}

/**
 * The line for `device: sim://NAME[?far=...]`: the modem NAME of `simModems` (created on first
 * use, on the line's clock). A bad path throws OptionError naming `device`.
 */
export function createSimModemLine(options: DeviceLineOptions, simModems: SimModems): SimModemLine {
  let sim: SimPath;
  try {
    sim = parseSimPath(options.path);
  } catch (err) {
    if (err instanceof SimPathError) throw new OptionError('device', err.message);
    throw err;
  }
  return new SimModemLine({ ...options, simModems, sim });
}
