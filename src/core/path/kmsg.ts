/**
 * The machine's kernel log as the tools show it: `dmesg` prints each line
 * after the time since boot, syslog (rsyslog's traditional file format,
 * as in /var/log/messages) after the wall-clock date, the host name and
 * "kernel:".
 */

/** A kernel log line: when (ns since boot), printk level and text. */
export interface KernelLogLine {
  ns: number;
  level: number;
  text: string;
}

/** One line as `dmesg` prints it: `[    5.123456] text`. */
export function formatDmesgLine(l: KernelLogLine): string {
  const us = Math.floor(l.ns / 1000);
  const sec = Math.floor(us / 1e6);
  const frac = String(us % 1e6).padStart(6, '0');
  return `[${String(sec).padStart(5, ' ')}.${frac}] ${l.text}\n`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * One line as rsyslog writes it to /var/log/messages
 * (`Sep  2 08:58:57 localhost kernel: text`), in UTC.
 */
export function formatSyslogLine(l: KernelLogLine, bootWall: number, hostname: string): string {
  const d = new Date(Math.floor((bootWall + l.ns / 1e9) * 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${date} ${hostname} kernel: ${l.text}\n`;
}
