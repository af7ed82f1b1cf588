/**
 * The ipvs match: properties of IPVS (load balancer) connections: virtual
 * protocol, address, port, direction, forwarding method, controlling port.
 * The reference kernel has no xt_ipvs module, so it refuses every rule with
 * ENOENT ("No such file or directory"); nflab does the same.
 */
import { defineMatch, paramError } from '../index-types.js';
import type { IPv6 } from '../../addr/ipv6.js';
import { dumpAddr6, parseHostMask6 } from '../addr6-opts.js';
import { badValue, dumpAddr, NO_NAMES, parseHostMask } from './conn-util.js';
import type { NameDb } from '../namedb.js';

/** xt_ipvs_mtinfo (IPv4). */
export interface IpvsInfo {
  /** Virtual address and mask: numbers in iptables rules, four words in ip6tables rules. */
  vaddr: number | IPv6;
  vmask: number | IPv6;
  vport: number;
  l4proto: number;
  fwdMethod: number;
  vportctl: number;
  /** XT_IPVS_* bits given (bit = option id). */
  bitmask: number;
  /** XT_IPVS_* bits negated. */
  invert: number;
}

/** XT_IPVS_* bits. */
export const IPVS = { PROPERTY: 1, PROTO: 2, VADDR: 4, VPORT: 8, DIR: 16, METHOD: 32, VPORTCTL: 64 } as const;
/** XT_IPVS_ONCE_MASK: every option but --ipvs itself. */
const ONCE_MASK = 0x7f & ~IPVS.PROPERTY;
/** Whether the kernel this lab reproduces has xt_ipvs. */
const KERNEL_HAS_IPVS = false;

/** IP_VS_CONN_F_* forwarding methods. */
const METHODS: readonly [string, number][] = [
  ['GATE', 0x0003],
  ['IPIP', 0x0002],
  ['MASQ', 0x0000],
];

function dump(info: IpvsInfo, prefix: string, names: NameDb, numeric: boolean): string {
  const inv = (bit: number) => (info.invert & bit ? ' !' : '');
  let s = '';
  if (info.bitmask === IPVS.PROPERTY) s += `${inv(IPVS.PROPERTY)} ${prefix}ipvs`;
  if (info.bitmask & IPVS.PROTO) s += `${inv(IPVS.PROTO)} ${prefix}vproto ${info.l4proto}`;
  if (info.bitmask & IPVS.VADDR) s += `${inv(IPVS.VADDR)} ${prefix}vaddr${
      typeof info.vaddr === 'number'
        ? dumpAddr(names, info.vaddr, info.vmask as number, numeric)
        : dumpAddr6(names, info.vaddr, info.vmask as IPv6, numeric)
    }`;
  if (info.bitmask & IPVS.VPORT) s += `${inv(IPVS.VPORT)} ${prefix}vport ${info.vport}`;
  if (info.bitmask & IPVS.DIR) s += ` ${prefix}vdir ${info.invert & IPVS.DIR ? 'REPLY' : 'ORIGINAL'}`;
  if (info.bitmask & IPVS.METHOD) {
    const m = METHODS.find(([, v]) => v === info.fwdMethod)?.[0] ?? 'UNKNOWN';
    s += `${inv(IPVS.METHOD)} ${prefix}vmethod ${m}`;
  }
  if (info.bitmask & IPVS.VPORTCTL) s += `${inv(IPVS.VPORTCTL)} ${prefix}vportctl ${info.vportctl}`;
  return s;
}

/** What `iptables -m ipvs -h` adds after the general help. */
const HELP =
  'IPVS match options:\n' +
  '[!] --ipvs                      packet belongs to an IPVS connection\n' +
  '\n' +
  'Any of the following options implies --ipvs (even negated)\n' +
  '[!] --vproto protocol           VIP protocol to match; by number or name,\n' +
  '                                e.g. "tcp"\n' +
  '[!] --vaddr address[/mask]      VIP address to match\n' +
  '[!] --vport port                VIP port to match; by number or name,\n' +
  '                                e.g. "http"\n' +
  '    --vdir {ORIGINAL|REPLY}     flow direction of packet\n' +
  '[!] --vmethod {GATE|IPIP|MASQ}  IPVS forwarding method used\n' +
  '[!] --vportctl port             VIP port of the controlling connection to\n' +
  '                                match, e.g. 21 for FTP\n';

/** The ipvs match (-m ipvs). */
export const ipvs = defineMatch<IpvsInfo>({
  name: 'ipvs',
  kernelMissing: true,
  help: () => HELP,
  options: [
    { name: 'ipvs', id: 0, type: 'none', invert: true },
    { name: 'vproto', id: 1, type: 'protocol', invert: true },
    // a hostmask, parsed here with getaddrinfo's rules
    { name: 'vaddr', id: 2, type: 'string', invert: true },
    { name: 'vport', id: 3, type: 'port', invert: true },
    { name: 'vdir', id: 4, type: 'string' },
    { name: 'vmethod', id: 5, type: 'string', invert: true },
    { name: 'vportctl', id: 6, type: 'port', invert: true },
  ],
  init: () => ({ vaddr: 0, vmask: 0, vport: 0, l4proto: 0, fwdMethod: 0, vportctl: 0, bitmask: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const arg = cb.arg ?? '';
    switch (cb.entry.id) {
      case 1:
        info.l4proto = cb.val.num!;
        break;
      case 2: {
        const hm =
          cb.family === 'ipv6'
            ? parseHostMask6(cb.names, cb.extName, cb.entry.name, arg)
            : parseHostMask(cb.names, cb.extName, cb.entry.name, arg);
        info.vaddr = hm.addr;
        info.vmask = hm.mask;
        break;
      }
      case 3:
        info.vport = cb.val.num!;
        break;
      case 4:
        if (arg.toLowerCase() === 'original') {
          info.bitmask |= IPVS.DIR;
          info.invert &= ~IPVS.DIR;
        } else if (arg.toLowerCase() === 'reply') {
          info.bitmask |= IPVS.DIR;
          info.invert |= IPVS.DIR;
        } else {
          throw badValue('ipvs', '--vdir', arg);
        }
        break;
      case 5: {
        const m = METHODS.find(([n]) => n.toLowerCase() === arg.toLowerCase());
        if (!m) throw badValue('ipvs', '--vmethod', arg);
        info.fwdMethod = m[1];
        break;
      }
      case 6:
        info.vportctl = cb.val.num!;
        break;
    }
    info.bitmask |= 1 << cb.entry.id;
    if (cb.invert) info.invert |= 1 << cb.entry.id;
  },
  final(cb) {
    const info = cb.info;
    if (cb.xflags === 0) throw paramError('IPVS: At least one option is required');
    if (info.bitmask & ONCE_MASK) {
      if (info.invert & IPVS.PROPERTY) throw paramError('! --ipvs cannot be together with other options');
      info.bitmask |= IPVS.PROPERTY;
    }
  },
  check: () => (KERNEL_HAS_IPVS ? undefined : { errno: 'ENOENT' }),
  print: (info, ctx) => dump(info, '', ctx.names, ctx.numeric),
  save: (info) => dump(info, '--', NO_NAMES, true),
});
