/**
 * The LOG target (xt_LOG): writes a kernel log line for each packet, with a
 * syslog level, an optional prefix of up to 29 characters and flags that add
 * TCP sequence numbers, TCP and IP options, the socket's UID or the decoded
 * MAC header. iptables-nft 1.8.9 keeps it as an xtables target.
 */
import { formatLogLine, type LinkLayer } from '../../path/log-format.js';
import { defineTarget, paramError } from '../index-types.js';
import type { KernelServices } from '../packet.js';
import { TARGET_HELP } from '../target-help.js';
import { XT_CONTINUE } from '../verdict.js';
import { saveString, truncateBytes } from './target-util.js';

/** struct xt_log_info. */
export interface LogInfo {
  /** Syslog level 0-7. */
  level: number;
  /** XT_LOG_* bits. */
  logflags: number;
  /** Prefix, at most 29 bytes. */
  prefix: string;
}

/** XT_LOG_* flag bits. */
export const XT_LOG = { TCPSEQ: 0x01, TCPOPT: 0x02, IPOPT: 0x04, UID: 0x08, MACDECODE: 0x20, MASK: 0x2f } as const;

/** The level used when --log-level is absent (LOG_WARNING). */
const DEFAULT_LEVEL = 4;

/** Longest prefix the kernel structure holds (char prefix[30]). */
const PREFIX_MAX = 29;

/** Names glibc's prioritynames gives each level first (what LOG prints). */
const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'];

const O = { TCPSEQ: 0, TCPOPTS: 1, IPOPTS: 2, UID: 3, MAC: 5, LEVEL: 6, PREFIX: 7 } as const;

/** Flag words in the order the -L form lists them. */
const FLAG_WORDS: readonly [number, string][] = [
  [XT_LOG.TCPSEQ, 'tcp-sequence'],
  [XT_LOG.TCPOPT, 'tcp-options'],
  [XT_LOG.IPOPT, 'ip-options'],
  [XT_LOG.UID, 'uid'],
  [XT_LOG.MACDECODE, 'macdecode'],
];

export const LOG = defineTarget<LogInfo>({
  name: 'LOG',
  help: () => TARGET_HELP['LOG']!,
  options: [
    { name: 'log-level', id: O.LEVEL, type: 'sysloglevel' },
    { name: 'log-prefix', id: O.PREFIX, type: 'string', min: 1 },
    { name: 'log-tcp-sequence', id: O.TCPSEQ, type: 'none' },
    { name: 'log-tcp-options', id: O.TCPOPTS, type: 'none' },
    { name: 'log-ip-options', id: O.IPOPTS, type: 'none' },
    { name: 'log-uid', id: O.UID, type: 'none' },
    { name: 'log-macdecode', id: O.MAC, type: 'none' },
  ],
  init: () => ({ level: DEFAULT_LEVEL, logflags: 0, prefix: '' }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.LEVEL:
        info.level = cb.val.num!;
        break;
      case O.PREFIX:
        if (cb.arg!.includes('\n')) throw paramError('Newlines not allowed in --log-prefix');
        info.prefix = truncateBytes(cb.arg!, PREFIX_MAX);
        break;
      default:
        // the option ids are the flag bit positions
        info.logflags |= 1 << cb.entry.id;
    }
  },
  print(info, { numeric }) {
    let s = ' LOG';
    if (numeric) {
      s += ` flags ${info.logflags} level ${info.level}`;
    } else {
      const name = LEVEL_NAMES[info.level];
      s += name !== undefined ? ` level ${name}` : ` UNKNOWN level ${info.level}`;
      for (const [bit, word] of FLAG_WORDS) if (info.logflags & bit) s += ` ${word}`;
      if (info.logflags & ~XT_LOG.MASK) s += ' unknown-flags';
    }
    if (info.prefix !== '') s += ` prefix "${info.prefix}"`;
    return s;
  },
  save(info) {
    let s = '';
    if (info.prefix !== '') s += ` --log-prefix${saveString(info.prefix)}`;
    if (info.level !== DEFAULT_LEVEL) s += ` --log-level ${info.level}`;
    for (const [bit, word] of FLAG_WORDS) if (info.logflags & bit) s += ` --log-${word}`;
    return s;
  },
  target(info, ctx) {
    // The IPv6 line (nf_log_ip6_packet) is not produced yet.
    if (ctx.family !== 'ipv4') return XT_CONTINUE;
    const line = formatLogLine(ctx.skb, {
      prefix: info.prefix,
      logflags: info.logflags,
      indev: ctx.in,
      outdev: ctx.out,
      link: ctx.in === '' ? 'ether' : linkLayerOf(ctx.kernel, ctx.in),
    });
    // The kernel log takes every line: nf_log_syslog applies no rate limit.
    if (ctx.kernel.logPacket) ctx.kernel.logPacket(info.level, line);
    else ctx.kernel.printk(info.level, line);
    return XT_CONTINUE;
  },
});

/**
 * How the named device frames packets: the loopback device has its own
 * link type (its all-zero header is always printed as MAC=), the other
 * kinds of link nflab models are Ethernet.
 */
function linkLayerOf(kernel: KernelServices, name: string): LinkLayer {
  const links: { name: string; kind: string }[] | undefined = kernel.net?.links;
  const link = links?.find((l) => l.name === name);
  if (link) return link.kind === 'loopback' ? 'loopback' : 'ether';
  return name === 'lo' ? 'loopback' : 'ether';
}
