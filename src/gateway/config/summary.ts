/** One-screen summary of a valid configuration (check-config, serve's start-up line). */
import { formatTcpUrl } from '../../options/address.js';
import type { ActionConfig, LineConfig, RasgateConfig } from './schema.js';

export function describeAction(a: ActionConfig): string {
  if (a.kind === 'hangup') return 'hangup';
  if (a.kind === 'bridge') return `bridge ${formatTcpUrl(a.target)}`;
  return `exec ${a.argv[0]}`;
}

export function describeLine(l: LineConfig): string {
  const where =
    l.kind === 'tcp'
      ? `${formatTcpUrl(l.listen)} ${l.mode}`
      : l.simulated
        ? `simulated modem "${l.simulated.name}"${l.simulated.far ? `, callers dial in at ${formatTcpUrl(l.simulated.far)}` : ''}`
        : `${l.device} ${l.baudRate} baud`;
  const callback = l.callback?.offered ? `, calls back (${l.callback.attempts} attempt${l.callback.attempts === 1 ? '' : 's'})` : '';
  return `${l.id}: ${where}, then ${describeAction(l.action)}${callback}${l.ppp === 'exec' ? ', PPP to exec' : ''}${l.enabled ? '' : ' (disabled)'}`;
}

export function summarize(config: RasgateConfig): string[] {
  const a = config.authority;
  return [
    `${config.lines.length} line${config.lines.length === 1 ? '' : 's'}:`,
    ...config.lines.map((l) => `  ${describeLine(l)}`),
    `authority: ${a.type}${a.type === 'local' ? ` (${a.file}${config.lines.some((l) => l.callback?.offered) && a.policyFile ? `, callback policy ${a.policyFile}` : ''})` : ''}`,
    `log: ${config.log.level}${config.log.file ? `, file ${config.log.file.path}` : ''}`,
    `shutdown grace: ${config.shutdown.grace} s`,
  ];
}
