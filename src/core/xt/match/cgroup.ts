/**
 * The cgroup match (revision 2): the cgroup v2 path of the sending socket
 * (recursively) or its net_cls classid. The kernel looks the path up when
 * the rule is added; a lab machine's cgroup2 tree has only its root, so
 * only paths made of slashes (or empty) resolve.
 */
import { defineMatch } from '../index-types.js';
import { saveString } from './conn-util.js';
import { truncateBytes } from './comment.js';

/** xt_cgroup_info_v2. */
export interface CgroupInfo {
  hasPath: boolean;
  hasClassid: boolean;
  invertPath: boolean;
  invertClassid: boolean;
  path: string;
  classid: number;
}

/** XT_CGROUP_PATH_MAX. */
const PATH_MAX = 512;

/** What `iptables -m cgroup -h` adds after the general help. */
const HELP =
  'cgroup match options:\n' +
  '[!] --path path                 Recursively match path relative to cgroup2 root\n' +
  '[!] --cgroup classid            Match cgroup classid, can\'t be used with --path\n';

/** The cgroup match (-m cgroup), revision 2. */
export const cgroup = defineMatch<CgroupInfo>({
  name: 'cgroup',
  help: () => HELP,
  revision: 2,
  options: [
    { name: 'path', id: 1, type: 'string', invert: true },
    { name: 'cgroup', id: 0, type: 'uint32', invert: true },
  ],
  init: () => ({ hasPath: false, hasClassid: false, invertPath: false, invertClassid: false, path: '', classid: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    if (cb.entry.id === 1) {
      info.path = truncateBytes(cb.arg ?? '', PATH_MAX - 1);
      info.hasPath = true;
      if (cb.invert) info.invertPath = true;
    } else {
      info.classid = cb.val.num!;
      info.hasClassid = true;
      if (cb.invert) info.invertClassid = true;
    }
  },
  check(info) {
    // cgroup_mt_check_v2: exactly one of path and classid, and the path must exist
    if (info.hasPath === info.hasClassid) return { errno: 'EINVAL' };
    if (info.hasPath && !/^\/*$/.test(info.path)) return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    let s = ' cgroup';
    if (info.hasPath) s += ` ${info.invertPath ? '! ' : ''}${info.path}`;
    if (info.hasClassid) s += ` ${info.invertClassid ? '! ' : ''}${info.classid}`;
    return s;
  },
  save(info) {
    let s = '';
    if (info.hasPath) s += `${info.invertPath ? ' !' : ''} --path${saveString(info.path)}`;
    if (info.hasClassid) s += `${info.invertClassid ? ' !' : ''} --cgroup ${info.classid}`;
    return s;
  },
  match(info, ctx) {
    // no socket: no match, negated or not
    if (ctx.skb.owner === null) return false;
    // every lab socket lives in the root cgroup (the only path that resolves) with classid 0
    if (info.hasPath) return !info.invertPath;
    return (info.classid >>> 0 === 0) !== info.invertClassid;
  },
});
