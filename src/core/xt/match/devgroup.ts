/**
 * The devgroup match: the device group of the input and/or output device,
 * under a mask, by number or by a name from /etc/iproute2/group.
 */
import { baseHook } from '../protocheck.js';
import { defineMatch, paramError } from '../index-types.js';
import { DEV_GROUPS, formatValMask, parseValMaskNamed } from './lmap.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_devgroup_info data. */
export interface DevgroupInfo {
  /** XT_DEVGROUP_* bits. */
  flags: number;
  srcGroup: number;
  srcMask: number;
  dstGroup: number;
  dstMask: number;
}

/** Flag bits of xt_devgroup_info. */
export const DEVGROUP = { MATCH_SRC: 0x1, INVERT_SRC: 0x2, MATCH_DST: 0x4, INVERT_DST: 0x8 } as const;

function show(info: DevgroupInfo, prefix: string, numeric: boolean): string {
  const names = numeric ? undefined : DEV_GROUPS;
  let s = '';
  if (info.flags & DEVGROUP.MATCH_SRC)
    s += `${info.flags & DEVGROUP.INVERT_SRC ? ' !' : ''} ${prefix}src-group${formatValMask(info.srcGroup, info.srcMask, names)}`;
  if (info.flags & DEVGROUP.MATCH_DST)
    s += `${info.flags & DEVGROUP.INVERT_DST ? ' !' : ''} ${prefix}dst-group${formatValMask(info.dstGroup, info.dstMask, names)}`;
  return s;
}

/** The devgroup match definition. */
export const devgroup = defineMatch<DevgroupInfo>({
  name: 'devgroup',
  help: () => PROTO_HELP['devgroup']!,
  options: [
    { name: 'src-group', id: 0, type: 'string', invert: true },
    { name: 'dst-group', id: 1, type: 'string', invert: true },
  ],
  init: () => ({ flags: 0, srcGroup: 0, srcMask: 0, dstGroup: 0, dstMask: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const r = parseValMaskNamed(cb, DEV_GROUPS);
    const info = cb.info;
    if (cb.entry.id === 0) {
      info.srcGroup = r.value;
      info.srcMask = r.mask;
      info.flags |= DEVGROUP.MATCH_SRC | (cb.invert ? DEVGROUP.INVERT_SRC : 0);
    } else {
      info.dstGroup = r.value;
      info.dstMask = r.mask;
      info.flags |= DEVGROUP.MATCH_DST | (cb.invert ? DEVGROUP.INVERT_DST : 0);
    }
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError("devgroup match: You must specify either '--src-group' or '--dst-group'");
  },
  check(info, ctx) {
    if (info.flags & ~0x0f) return { errno: 'EINVAL' };
    const hook = baseHook(ctx);
    if (hook === undefined) return undefined;
    if (info.flags & DEVGROUP.MATCH_SRC && !['PREROUTING', 'INPUT', 'FORWARD'].includes(hook)) return { errno: 'EINVAL' };
    if (info.flags & DEVGROUP.MATCH_DST && !['FORWARD', 'OUTPUT', 'POSTROUTING'].includes(hook)) return { errno: 'EINVAL' };
    return undefined;
  },
  print(info, { numeric }) {
    return show(info, '', numeric);
  },
  save(info) {
    return show(info, '--', false);
  },
  match(info, ctx) {
    if (info.flags & DEVGROUP.MATCH_SRC) {
      const hit = ((groupOf(ctx.kernel.net, ctx.in) ^ info.srcGroup) & info.srcMask) === 0;
      if (hit === ((info.flags & DEVGROUP.INVERT_SRC) !== 0)) return false;
    }
    if (info.flags & DEVGROUP.MATCH_DST) {
      const hit = ((groupOf(ctx.kernel.net, ctx.out) ^ info.dstGroup) & info.dstMask) === 0;
      if (hit === ((info.flags & DEVGROUP.INVERT_DST) !== 0)) return false;
    }
    return true;
  },
});

/** The group of the link called `name` (0, "default", when the network state does not know it). */
function groupOf(net: unknown, name: string): number {
  const links = (net as { links?: { name: string; group: number }[] } | undefined)?.links;
  return links?.find((l) => l.name === name)?.group ?? 0;
}
