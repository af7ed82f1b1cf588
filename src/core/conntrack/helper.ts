/**
 * Conntrack helpers as nf_confirm runs them: a connection whose helper
 * was assigned by a CT template (`-j CT --helper ftp`; this kernel never
 * assigns one by port, nf_conntrack_helper=0 being the only behaviour)
 * has its packets read by the helper as they leave the last hook (INPUT
 * or POSTROUTING), then, when a NAT helper changed the length of a
 * payload, its TCP sequence numbers adjusted.
 *
 * Helper names: "ftp" (the FTP helper on its default port) and "ftp-N"
 * (the same helper registered for another port with `ports=`); "tftp"
 * and "irc" likewise. Other helpers CT accepts (sip, ...) read nothing here.
 */
import { formatLogLine, LOGF_IPOPT, LOGF_TCPOPT, LOGF_TCPSEQ, LOGF_UID } from '../path/log-format.js';
import { CtInfo, type Skb } from '../path/skb.js';
import { NF_ACCEPT, NF_DROP } from '../xt/verdict.js';
import type { ConntrackEnv } from './env.js';
import { ftpHelp } from './helper-ftp.js';
import { ircHelp } from './helper-irc.js';
import { tftpHelp } from './helper-tftp.js';
import type { NatEnv } from './nat.js';
import { seqAdjust } from './nat-seqadj.js';
import type { ConntrackTable } from './table.js';
import { IPS, type Conn } from './types.js';

/** What a helper needs from the machine. */
export interface HelperEnv {
  table: ConntrackTable;
  nowNs(): number;
  /** NAT services for NATed control connections. */
  nat: NatEnv;
  /** nf_conntrack_ftp's `loose` parameter (follow an address other than the sender's). */
  ftpLoose?(): boolean;
  /** Logs a packet a helper drops, with this prefix (nf_ct_helper_log). */
  logHelper?(skb: Skb, prefix: string): void;
  /** Writes a kernel log line (a helper's own warnings). */
  printk?(level: number, text: string): void;
  /** A helper module's parameter as loaded, undefined for its default. */
  moduleParam?(module: string, name: string): string | undefined;
}

/** The helper environment of a conntrack environment. */
export function helperEnv(env: ConntrackEnv): HelperEnv {
  return {
    table: env.table,
    nowNs: () => env.nowNs(),
    nat: { random32: () => env.random32(), conntrack: env.table },
    ftpLoose: () => {
      const v = env.moduleParam?.('nf_conntrack_ftp', 'loose');
      return v === '1' || v === 'Y' || v === 'y';
    },
    logHelper: env.logHelper,
    printk: (level, text) => env.printk(level, text),
    moduleParam: (module, name) => env.moduleParam?.(module, name),
  };
}

/** The layer-4 protocols each helper this kernel knows serves, by base name. */
const HELPER_PROTOS: Record<string, readonly number[]> = {
  ftp: [6],
  tftp: [17],
  irc: [6],
};

/** The base name of a helper name ("ftp-2121" is the FTP helper). */
export function helperBase(name: string): string {
  const dash = name.lastIndexOf('-');
  if (dash > 0 && /^[0-9]+$/.test(name.slice(dash + 1))) return name.slice(0, dash);
  return name;
}

/** Whether nflab runs a helper of this name (others are accepted by CT but read nothing). */
export function helperImplemented(name: string): boolean {
  return HELPER_PROTOS[helperBase(name)] !== undefined;
}

/** Runs the connection's helper on a packet. */
function runHelper(env: ConntrackEnv, skb: Skb, ct: Conn): number {
  const proto = skb.data[9];
  if (proto !== ct.orig.proto) return NF_ACCEPT;
  switch (helperBase(ct.helper)) {
    case 'ftp':
      return proto === 6 ? ftpHelp(helperEnv(env), skb, ct, skb.ctinfo) : NF_ACCEPT;
    case 'tftp':
      return proto === 17 ? tftpHelp(helperEnv(env), skb, ct) : NF_ACCEPT;
    case 'irc':
      return proto === 6 ? ircHelp(helperEnv(env), skb, ct, skb.ctinfo) : NF_ACCEPT;
    default:
      return NF_ACCEPT;
  }
}

/** Whether a packet goes through a loopback device (nf_is_loopback_packet). */
function onLoopback(skb: Skb): boolean {
  return skb.outdev === 'lo' || (skb.outdev === '' && skb.indev === 'lo');
}

/**
 * The helper part of nf_confirm, before the connection is confirmed:
 * runs the helper, then adjusts the TCP sequence numbers of a connection
 * whose payload a NAT helper resized. Returns the verdict.
 */
export function confirmHelpers(env: ConntrackEnv, skb: Skb, ct: Conn): number {
  const seqadj = (ct.status & IPS.SEQ_ADJUST) !== 0 && !onLoopback(skb);
  if (ct.helper === '' && !seqadj) return NF_ACCEPT;
  // helpers do not read ICMP errors
  if (skb.ctinfo === CtInfo.RELATED_REPLY) return NF_ACCEPT;
  if (ct.helper !== '') {
    const v = runHelper(env, skb, ct);
    if (v !== NF_ACCEPT) return v;
  }
  if (seqadj && skb.data[9] === 6) {
    const th = (skb.data[0]! & 0x0f) << 2;
    if (!seqAdjust(ct, skb.data, th, skb.ctinfo >= CtInfo.ESTABLISHED_REPLY ? 1 : 0)) return NF_DROP;
  }
  return NF_ACCEPT;
}

/** The log level of nf_log_packet's default logging (LOGLEVEL_NOTICE). */
export const HELPER_LOG_LEVEL = 5;

/**
 * The kernel log text of a packet a helper drops (nf_ct_helper_log through
 * nf_log_packet with the default settings: no devices, TCP sequence
 * numbers, TCP and IP options and the owner's UID logged), e.g.
 * "nf_ct_ftp: dropping packet: partial matching of `PORT' IN= OUT= SRC=...".
 * The machine writes it at HELPER_LOG_LEVEL, in a namespace other than the
 * host's own only with net.netfilter.nf_log_all_netns=1.
 */
export function helperLogLine(skb: Skb, prefix: string): string {
  return formatLogLine(skb, { prefix, logflags: LOGF_TCPSEQ | LOGF_TCPOPT | LOGF_IPOPT | LOGF_UID, indev: '', outdev: '', link: 'none' });
}
