/**
 * The realm match (IPv4): the routing realm of the packet's route, under a
 * mask, by number or by a name from /etc/iproute2/rt_realms.
 */
import { requireHooks } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { formatValMask, parseValMaskNamed, RT_REALMS } from './lmap.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_realm_info data. */
export interface RealmInfo {
  id: number;
  mask: number;
  invert: number;
}

/** The realm match definition. */
export const realm = defineMatch<RealmInfo>({
  name: 'realm',
  family: 'ipv4',
  hooks: ['POSTROUTING', 'FORWARD', 'OUTPUT', 'INPUT'],
  help: () => PROTO_HELP['realm']!,
  options: [{ name: 'realm', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ id: 0, mask: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const r = parseValMaskNamed(cb, RT_REALMS);
    cb.info.id = r.value;
    cb.info.mask = r.mask;
    if (cb.invert) cb.info.invert = 1;
  },
  check(_info, ctx) {
    return requireHooks(ctx, ['POSTROUTING', 'FORWARD', 'OUTPUT', 'INPUT']);
  },
  print(info, { numeric }) {
    return `${info.invert ? ' !' : ''} realm${formatValMask(info.id, info.mask, numeric ? undefined : RT_REALMS)}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --realm${formatValMask(info.id, info.mask, RT_REALMS)}`;
  },
  // the route's tclassid: lab routes carry no realm, so it is 0
  match: (info) => (info.id >>> 0 === 0) !== (info.invert !== 0),
});
