/**
 * A modem line on a simulated modem (`device: sim://NAME...`): a DeviceLine whose modem comes
 * from a SimModems registry, set up from the path (dial plan, dial tone), and whose far side
 * (callers over TCP, `far=`) lives as long as the line answers: start() listens, pause() and
 * stop() close it, as a TCP line's listener.
 */
import type { Logger } from '../logging.js';
import type { TcpAddress } from '../options/address.js';
import { DeviceLine, type DeviceLineDeps } from './device-line.js';
import type { DeviceLineConfig } from './options.js';
import { openFarSide, type FarSide } from './sim-far-side.js';
import type { SimModem, SimModems } from './sim-modem.js';
import type { SimPath } from './sim-path.js';

export interface SimModemLineDeps extends DeviceLineDeps {
  simModems: SimModems;
}

export class SimModemLine extends DeviceLine {
  readonly simModem: SimModem;
  private readonly far?: TcpAddress;
  private readonly farLog: Logger;
  private farSide?: Promise<FarSide>;

  constructor(config: DeviceLineConfig & { simulated: SimPath }, deps: SimModemLineDeps) {
    super(config, { ...deps, serial: { ...deps.serial, simModems: deps.simModems } });
    const sim = config.simulated;
    this.simModem = deps.simModems.get(sim.name, deps.clock ? { clock: deps.clock } : {});
    // The path is the modem's telephone line: its settings apply anew with every line made on it.
    this.simModem.dialPlan = sim.dialPlan;
    this.simModem.dialTone = sim.dialTone;
    if (sim.far) this.far = sim.far;
    this.farLog = deps.logger.child({ line: config.id, area: 'line' });
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
