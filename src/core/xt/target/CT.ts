/**
 * The CT target, revision 2 (xt_ct_target_info_v1), and its NOTRACK alias:
 * attaches a conntrack template to packets in the raw table: no tracking,
 * a helper, a timeout policy, the events to report, a zone.
 */
import { defineTarget, IPT_INV, paramError, type CheckContext, type CheckError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { strtoulRange } from '../../util/cnum.js';
import { checkPlacement, truncateBytes } from './target-util.js';
import type { PacketContext } from '../packet.js';
import { XT_CONTINUE } from '../verdict.js';
import { CtInfo as CtState } from '../../path/skb.js';
import { makeTemplate, type CtTemplate, type CtTemplateSettings } from './ct-template.js';

/** struct xt_ct_target_info_v1. */
export interface CtInfo {
  /** XT_CT_* bits. */
  flags: number;
  zone: number;
  /** Bit per IPCT_* event. */
  ctEvents: number;
  /** Bit per IPEXP_* event. */
  expEvents: number;
  /** Helper name, at most 15 bytes. */
  helper: string;
  /** Timeout policy name. */
  timeout: string;
}

/** XT_CT_* flag bits. */
export const XT_CT = {
  NOTRACK: 0x01,
  NOTRACK_ALIAS: 0x02,
  ZONE_DIR_ORIG: 0x04,
  ZONE_DIR_REPL: 0x08,
  ZONE_MARK: 0x10,
} as const;

const O = { NOTRACK: 0, HELPER: 1, TIMEOUT: 2, CTEVENTS: 3, EXPEVENTS: 4, ZONE: 5, ZONE_ORIG: 6, ZONE_REPLY: 7 } as const;

/** Conntrack event names and their IPCT_* bit numbers, in print order. */
const CT_EVENTS: readonly [string, number][] = [
  ['new', 0],
  ['related', 1],
  ['destroy', 2],
  ['reply', 3],
  ['assured', 4],
  ['protoinfo', 5],
  ['helper', 6],
  ['mark', 7],
  ['natseqinfo', 8],
  ['secmark', 9],
];

/** Expectation event names and their IPEXP_* bit numbers. */
const EXP_EVENTS: readonly [string, number][] = [['new', 0]];

/**
 * The conntrack helpers this kernel has for IPv4, with the layer-4
 * protocols each serves (nf_conntrack_helper_try_module_get).
 */
const HELPERS: Record<string, readonly number[]> = {
  ftp: [6],
  tftp: [17],
  sip: [6, 17],
  irc: [6],
  RAS: [17],
  'Q.931': [6],
  pptp: [6],
  amanda: [17],
  'netbios-ns': [17],
  snmp: [17],
  snmp_trap: [17],
  sane: [6],
};

/** Bytes of the helper name buffer (char helper[16]). */
const HELPER_MAX = 15;
/** Bytes of the timeout name buffer (char timeout[32]). */
const TIMEOUT_MAX = 31;
/**
 * The kernel copies back only the fields of the revision-0 layout, which
 * ends four bytes into the timeout name, so only its first four characters
 * are listed.
 */
const TIMEOUT_READBACK = 4;

function parseEvents(table: readonly [string, number][], list: string): number {
  let mask = 0;
  for (const word of list.split(',')) {
    const ev = table.find(([name]) => name === word);
    if (!ev) throw paramError(`Unknown event type "${word}"`);
    mask |= 1 << ev[1];
  }
  return mask;
}

function eventsText(table: readonly [string, number][], mask: number): string {
  return table
    .filter(([, bit]) => mask & (1 << bit))
    .map(([name]) => name)
    .join(',');
}

/** ct_parse_zone_id: "mark" or a number 0-65535, with the direction flag of the option. */
function parseZone(info: CtInfo, id: number, arg: string): void {
  if (id === O.ZONE_ORIG) info.flags |= XT_CT.ZONE_DIR_ORIG;
  if (id === O.ZONE_REPLY) info.flags |= XT_CT.ZONE_DIR_REPL;
  info.zone = 0;
  if (arg.toLowerCase() === 'mark') {
    info.flags |= XT_CT.ZONE_MARK;
    return;
  }
  const n = strtoulRange(arg, 0, 0xffff);
  if (n === undefined) throw paramError(`Cannot parse ${arg} as a zone ID`);
  info.zone = n;
}

function zoneText(info: CtInfo, label: string): string {
  const dir = info.flags & (XT_CT.ZONE_DIR_ORIG | XT_CT.ZONE_DIR_REPL);
  let s = ` ${label}`;
  if (dir === XT_CT.ZONE_DIR_ORIG) s += '-orig';
  if (dir === XT_CT.ZONE_DIR_REPL) s += '-reply';
  return s + (info.flags & XT_CT.ZONE_MARK ? ' mark' : ` ${info.zone}`);
}

/** ct_print_v1 / ct_save_v1 body, after the " CT" of -L. */
function render(info: CtInfo, dashes: string): string {
  let s = '';
  if (info.flags & XT_CT.NOTRACK) s += ` ${dashes}notrack`;
  if (info.helper !== '') s += ` ${dashes}helper ${info.helper}`;
  if (info.timeout !== '') s += ` ${dashes}timeout ${info.timeout}`;
  if (info.ctEvents) s += ` ${dashes}ctevents ${eventsText(CT_EVENTS, info.ctEvents)}`;
  if (info.expEvents) s += ` ${dashes}expevents ${eventsText(EXP_EVENTS, info.expEvents)}`;
  if (info.flags & XT_CT.ZONE_MARK || info.zone) s += zoneText(info, `${dashes}zone`);
  return s;
}

/** xt_ct_tg_check: raw table only; the helper and timeout must exist for the rule's protocol. */
function checkCt(info: CtInfo, ctx: CheckContext): CheckError | undefined {
  const where = checkPlacement(ctx, { table: 'raw' });
  if (where) return where;
  if (info.flags & XT_CT.NOTRACK) return undefined;
  const proto = ctx.rule.invflags & IPT_INV.PROTO ? 0 : ctx.rule.proto;
  if (info.helper !== '') {
    if (!proto || !(HELPERS[info.helper] ?? []).includes(proto)) return { errno: 'ENOENT' };
  }
  // nflab has no timeout policies (nfct timeout add), so none is ever found.
  if (info.timeout !== '') return { errno: proto ? 'ENOENT' : 'EINVAL' };
  return undefined;
}

const emptyCt = (): CtInfo => ({ flags: 0, zone: 0, ctEvents: 0, expEvents: 0, helper: '', timeout: '' });

/** NF_CT_ZONE_DIR_* of the template (xt_ct_flags_to_dir). */
function zoneDir(flags: number): number {
  switch (flags & (XT_CT.ZONE_DIR_ORIG | XT_CT.ZONE_DIR_REPL)) {
    case XT_CT.ZONE_DIR_ORIG:
      return 1;
    case XT_CT.ZONE_DIR_REPL:
      return 2;
    default:
      return 3;
  }
}

const settingsCache = new WeakMap<CtInfo, CtTemplateSettings>();
const templateCache = new WeakMap<CtInfo, CtTemplate>();

/** A CT rule's template settings besides the zone. */
function settingsOf(info: CtInfo): CtTemplateSettings {
  let s = settingsCache.get(info);
  if (!s) {
    s = { zoneDir: zoneDir(info.flags), helper: info.helper, timeout: info.timeout, ctEvents: info.ctEvents, expEvents: info.expEvents };
    settingsCache.set(info, s);
  }
  return s;
}

/**
 * The template of a CT rule: made once and shared by its packets, as the
 * kernel makes it at insertion; with "--zone mark" one per packet, its
 * zone taken from the packet's mark.
 */
function templateOf(info: CtInfo, mark: number): CtTemplate {
  if (info.flags & XT_CT.ZONE_MARK) return makeTemplate(mark & 0xffff, settingsOf(info));
  let t = templateCache.get(info);
  if (!t) {
    t = makeTemplate(info.zone, settingsOf(info));
    templateCache.set(info, t);
  }
  return t;
}

/**
 * The kernel half of CT and NOTRACK (xt_ct_target): a packet that already
 * has a connection, a template or the untracked mark is left as it is;
 * otherwise --notrack marks it untracked, and any other CT rule attaches
 * its template in the connection's place (see ct-template.ts). The
 * traversal always goes on.
 */
function ctTarget(info: CtInfo, ctx: PacketContext): number {
  const skb = ctx.skb;
  if (skb.ct !== null || skb.untracked) return XT_CONTINUE;
  if (info.flags & XT_CT.NOTRACK) {
    skb.untracked = true;
    skb.ctinfo = CtState.NONE;
  } else {
    skb.ct = templateOf(info, skb.mark);
    skb.ctinfo = CtState.NEW;
  }
  return XT_CONTINUE;
}

export const CT = defineTarget<CtInfo>({
  name: 'CT',
  help: () => TARGET_HELP['CT']!,
  revision: 2,
  tables: ['raw'],
  options: [
    { name: 'notrack', id: O.NOTRACK, type: 'none' },
    { name: 'helper', id: O.HELPER, type: 'string' },
    { name: 'timeout', id: O.TIMEOUT, type: 'string' },
    { name: 'ctevents', id: O.CTEVENTS, type: 'string' },
    { name: 'expevents', id: O.EXPEVENTS, type: 'string' },
    { name: 'zone-orig', id: O.ZONE_ORIG, type: 'string' },
    { name: 'zone-reply', id: O.ZONE_REPLY, type: 'string' },
    { name: 'zone', id: O.ZONE, type: 'string' },
  ],
  init: emptyCt,
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const arg = cb.arg ?? '';
    switch (cb.entry.id) {
      case O.NOTRACK:
        info.flags |= XT_CT.NOTRACK;
        break;
      case O.HELPER:
        info.helper = truncateBytes(arg, HELPER_MAX);
        break;
      case O.TIMEOUT:
        info.timeout = truncateBytes(arg, TIMEOUT_MAX);
        break;
      case O.ZONE:
      case O.ZONE_ORIG:
      case O.ZONE_REPLY:
        parseZone(info, cb.entry.id, arg);
        break;
      case O.CTEVENTS:
        info.ctEvents = parseEvents(CT_EVENTS, arg);
        break;
      case O.EXPEVENTS:
        info.expEvents = parseEvents(EXP_EVENTS, arg);
        break;
    }
  },
  check: checkCt,
  kernelForm: (info) => ({ ...info, timeout: truncateBytes(info.timeout, TIMEOUT_READBACK) }),
  saveName: (info) => (info.flags & XT_CT.NOTRACK_ALIAS ? 'NOTRACK' : 'CT'),
  print: (info) => (info.flags & XT_CT.NOTRACK_ALIAS ? ' NOTRACK' : ` CT${render(info, '')}`),
  save: (info) => (info.flags & XT_CT.NOTRACK_ALIAS ? '' : render(info, '--')),
  target: ctTarget,
});

/**
 * NOTRACK: the CT target with only "don't track" set. It is stored as CT
 * (so -L shows CT in the target column) and saved under its own name.
 */
export const NOTRACK = defineTarget<CtInfo>({
  name: 'NOTRACK',
  realName: 'CT',
  revision: 2,
  tables: ['raw'],
  options: [],
  init: () => ({ ...emptyCt(), flags: XT_CT.NOTRACK | XT_CT.NOTRACK_ALIAS }),
  check: checkCt,
  print: () => ' NOTRACK',
  save: () => '',
  target: ctTarget,
});
