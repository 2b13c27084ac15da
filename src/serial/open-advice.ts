/**
 * Why a serial device could not be opened, and what the operator can do about it: the cause in
 * one phrase and the fix in one sentence, for the log line that an operator reads at 3 a.m.
 * Permission problems name the device's group and mode and this process's user and groups;
 * a lock names its holder (PID and program). Everything here reads the system only (stat,
 * /etc/group, /proc); nothing is changed.
 */
import { readFileSync, statSync } from 'node:fs';
import { errnoOf } from './modem-port.js';

export interface OpenAdvice {
  /** e.g. 'permission denied', 'no such device', 'locked by PID 812 (agetty)'. */
  cause: string;
  /** One sentence an operator can act on. */
  fix: string;
  /** Retrying cannot help (the path is not a serial device, or the settings are impossible). */
  hopeless: boolean;
}

function groupName(gid: number): string {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === gid) return name;
    }
  } catch {
    // no /etc/group: the number will do
  }
  return String(gid);
}

function programOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function permissionFix(device: string): string {
  let who = '';
  try {
    const st = statSync(device);
    const group = groupName(st.gid);
    who = ` (${device} is group ${group}, mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; rasgate runs as uid ${process.getuid?.()} in groups ${(process.getgroups?.() ?? []).map(groupName).join(',') || 'none'})`;
    return `add the service user to group ${group} (usermod -aG ${group} rasgate, then restart rasgate), or give the device a udev rule with GROUP="${group}", MODE="0660"; under systemd also check DeviceAllow= and SupplementaryGroups=${who}`;
  } catch {
    return 'add the service user to the device\'s group (usually dialout: usermod -aG dialout rasgate, then restart rasgate), or give the device a udev rule with GROUP and MODE; under systemd also check DeviceAllow=';
  }
}

/** The advice for one failed open of `device`. */
export function openAdvice(err: unknown, device: string): OpenAdvice {
  const e = err as { code?: string; errno?: string; message?: string } | null;
  const message = e?.message ?? String(err);
  if (e?.code === 'LINE_LOCKED') {
    const pid = /PID (\d+)/.exec(message)?.[1];
    const program = pid ? programOf(Number(pid)) : undefined;
    const holder = pid ? `PID ${pid}${program ? ` (${program})` : ''}` : 'another program';
    return {
      cause: `locked by ${holder}`,
      fix: `stop ${holder} (a getty: systemctl stop serial-getty@${device.replace(/^\/dev\//, '').replace(/\//g, '-')}.service; minicom, cu, ModemManager), or configure another device; rasgate retries until it is free`,
      hopeless: false,
    };
  }
  const errno = e?.errno ?? errnoOf(err);
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return { cause: 'permission denied', fix: permissionFix(device), hopeless: false };
    case 'ENOENT':
      return { cause: 'no such device', fix: 'check the path and that the adapter is plugged in (prefer the stable names in /dev/serial/by-id/); rasgate opens it as soon as it appears', hopeless: false };
    case 'EBUSY':
    case 'EAGAIN':
      return { cause: 'device busy', fix: `another program has it open (fuser -v ${device}); stop it, or configure another device`, hopeless: false };
    case 'ENODEV':
    case 'ENXIO':
    case 'EIO':
      return { cause: 'device not responding', fix: 'the adapter is there but does not answer: reconnect it or check its driver (dmesg)', hopeless: false };
    case 'ENOTTY':
      return { cause: 'not a serial device', fix: `${device} is not a tty: check the device path in the configuration`, hopeless: true };
    case 'EINVAL':
      return { cause: 'settings refused by the device', fix: 'the device refused the serial settings (baudRate, dataBits, parity, stopBits): check them against the modem', hopeless: true };
    default:
      return { cause: message, fix: 'check the device and its driver (dmesg); rasgate keeps retrying', hopeless: false };
  }
}
