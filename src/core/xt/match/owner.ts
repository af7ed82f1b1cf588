/**
 * The owner match (revision 1): the user and group (or ranges of them) of
 * the local socket that sent a packet, whether it has a socket at all, and
 * supplementary groups. Only for OUTPUT and POSTROUTING. User and group
 * names are looked up in the lab machine's /etc/passwd and /etc/group.
 */
import { strtoulPrefix } from '../../util/cnum.js';
import { defineMatch, paramError, type NameDb } from '../index-types.js';
import { badValue, hooksOnly } from './conn-util.js';

/** xt_owner_match_info. */
export interface OwnerInfo {
  uidMin: number;
  uidMax: number;
  gidMin: number;
  gidMax: number;
  /** XT_OWNER_* bits given. */
  match: number;
  /** XT_OWNER_* bits negated. */
  invert: number;
}

/** XT_OWNER_* bits. */
export const OWNER = { UID: 0x01, GID: 0x02, SOCKET: 0x04, SUPPL_GROUPS: 0x08 } as const;

/** Users of a fresh Debian 12 system (base-passwd and apt), name → uid, in file order. */
const DEFAULT_USERS: readonly [string, number][] = [
  ['root', 0], ['daemon', 1], ['bin', 2], ['sys', 3], ['sync', 4], ['games', 5], ['man', 6], ['lp', 7],
  ['mail', 8], ['news', 9], ['uucp', 10], ['proxy', 13], ['www-data', 33], ['backup', 34], ['list', 38],
  ['irc', 39], ['_apt', 42], ['nobody', 65534],
];

/** Groups of a fresh Debian 12 system (base-passwd), name → gid, in file order. */
const DEFAULT_GROUPS: readonly [string, number][] = [
  ['root', 0], ['daemon', 1], ['bin', 2], ['sys', 3], ['adm', 4], ['tty', 5], ['disk', 6], ['lp', 7],
  ['mail', 8], ['news', 9], ['uucp', 10], ['man', 12], ['proxy', 13], ['kmem', 15], ['dialout', 20],
  ['fax', 21], ['voice', 22], ['cdrom', 24], ['floppy', 25], ['tape', 26], ['sudo', 27], ['audio', 29],
  ['dip', 30], ['www-data', 33], ['backup', 34], ['operator', 37], ['list', 38], ['irc', 39], ['src', 40],
  ['shadow', 42], ['utmp', 43], ['video', 44], ['sasl', 45], ['plugdev', 46], ['staff', 50], ['games', 60],
  ['users', 100], ['nogroup', 65534],
];

/**
 * Account lookups a NameDb may offer (from the lab's /etc/passwd and
 * /etc/group); without them the Debian 12 defaults above are used.
 */
interface AccountDb {
  userId?(name: string): number | undefined;
  userName?(id: number): string | undefined;
  groupId?(name: string): number | undefined;
  groupName?(id: number): string | undefined;
}

function lookupId(names: NameDb, kind: 'user' | 'group', name: string): number | undefined {
  const db = names as NameDb & AccountDb;
  const fn = kind === 'user' ? db.userId : db.groupId;
  if (fn) return fn.call(db, name);
  return (kind === 'user' ? DEFAULT_USERS : DEFAULT_GROUPS).find(([n]) => n === name)?.[1];
}

function lookupName(names: NameDb, kind: 'user' | 'group', id: number): string | undefined {
  const db = names as NameDb & AccountDb;
  const fn = kind === 'user' ? db.userName : db.groupName;
  if (fn) return fn.call(db, id);
  return (kind === 'user' ? DEFAULT_USERS : DEFAULT_GROUPS).find(([, i]) => i === id)?.[0];
}

/** owner_parse_range: "a", "a-b" or "a:b", each 0 to 2^32-2 (-1 is reserved). */
function parseRange(s: string, opt: string): [number, number] {
  const max = 0xfffffffe;
  const a = strtoulPrefix(s, 0, max);
  if (!a) throw badValue('owner', opt, s);
  let to = a.value;
  let end = a.end;
  if (s[end] === '-' || s[end] === ':') {
    const rest = s.slice(end + 1);
    const b = strtoulPrefix(rest, 0, max);
    if (!b) throw badValue('owner', opt, s);
    to = b.value;
    end = end + 1 + b.end;
  }
  if (end !== s.length) throw badValue('owner', opt, s);
  return [a.value, to];
}

/** One item of the print and save forms (owner_mt_print_item). */
function item(info: OwnerInfo, label: string, flag: number, names: NameDb | undefined): string {
  if (!(info.match & flag)) return '';
  let s = `${info.invert & flag ? ' !' : ''} ${label}`;
  const one = (min: number, max: number, kind: 'user' | 'group') => {
    if (min !== max) return ` ${min}-${max}`;
    const name = names ? lookupName(names, kind, min) : undefined;
    return ` ${name ?? min}`;
  };
  if (flag === OWNER.UID) s += one(info.uidMin, info.uidMax, 'user');
  if (flag === OWNER.GID) s += one(info.gidMin, info.gidMax, 'group');
  return s;
}

/** What `iptables -m owner -h` adds after the general help. */
const HELP =
  'owner match options:\n' +
  '[!] --uid-owner userid[-userid]      Match local UID\n' +
  '[!] --gid-owner groupid[-groupid]    Match local GID\n' +
  '[!] --socket-exists                  Match if socket exists\n' +
  '    --suppl-groups                   Also match supplementary groups set with --gid-owner\n';

/** The owner match (-m owner), revision 1. */
export const owner = defineMatch<OwnerInfo>({
  name: 'owner',
  hooks: ['OUTPUT', 'POSTROUTING'],
  help: () => HELP,
  revision: 1,
  options: [
    { name: 'uid-owner', id: 0, type: 'string', invert: true },
    { name: 'gid-owner', id: 1, type: 'string', invert: true },
    { name: 'socket-exists', id: 2, type: 'none', invert: true },
    { name: 'suppl-groups', id: 6, type: 'none' },
  ],
  init: () => ({ uidMin: 0, uidMax: 0, gidMin: 0, gidMax: 0, match: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const arg = cb.arg ?? '';
    const set = (flag: number) => {
      if (cb.invert) info.invert |= flag;
      info.match |= flag;
    };
    switch (cb.entry.id) {
      case 0: {
        const id = lookupId(cb.names, 'user', arg);
        [info.uidMin, info.uidMax] = id !== undefined ? [id, id] : parseRange(arg, '--uid-owner');
        set(OWNER.UID);
        break;
      }
      case 1: {
        const id = lookupId(cb.names, 'group', arg);
        [info.gidMin, info.gidMax] = id !== undefined ? [id, id] : parseRange(arg, '--gid-owner');
        set(OWNER.GID);
        break;
      }
      case 2:
        set(OWNER.SOCKET);
        break;
      case 6:
        if (!(info.match & OWNER.GID)) throw badValue('owner', '--suppl-groups', 'you need to use --gid-owner first');
        info.match |= OWNER.SUPPL_GROUPS;
        break;
    }
  },
  final(cb) {
    if (cb.xflags === 0)
      throw paramError('owner: At least one of --uid-owner, --gid-owner or --socket-exists is required');
  },
  check(info, ctx) {
    const bad = hooksOnly(ctx, ['OUTPUT', 'POSTROUTING']);
    if (bad) return bad;
    if (info.match & OWNER.UID && info.uidMax < info.uidMin) return { errno: 'EINVAL' };
    if (info.match & OWNER.GID && info.gidMax < info.gidMin) return { errno: 'EINVAL' };
    return undefined;
  },
  print(info, ctx) {
    const names = ctx.numeric ? undefined : ctx.names;
    return (
      item(info, 'owner socket exists', OWNER.SOCKET, names) +
      item(info, 'owner UID match', OWNER.UID, names) +
      item(info, 'owner GID match', OWNER.GID, names) +
      item(info, 'incl. suppl. groups', OWNER.SUPPL_GROUPS, names)
    );
  },
  save: (info) =>
    item(info, '--socket-exists', OWNER.SOCKET, undefined) +
    item(info, '--uid-owner', OWNER.UID, undefined) +
    item(info, '--gid-owner', OWNER.GID, undefined) +
    item(info, '--suppl-groups', OWNER.SUPPL_GROUPS, undefined),
  match(info, ctx) {
    const o = ctx.skb.owner;
    // no socket: matches only when every option given is negated
    if (o === null) return (info.match ^ info.invert) === 0;
    if (info.match & info.invert & OWNER.SOCKET) return false;
    if (info.match & OWNER.UID) {
      const inRange = o.uid >= info.uidMin && o.uid <= info.uidMax;
      if (inRange !== ((info.invert & OWNER.UID) === 0)) return false;
    }
    if (info.match & OWNER.GID) {
      // the lab's sockets carry no supplementary groups
      const inRange = o.gid >= info.gidMin && o.gid <= info.gidMax;
      if (inRange !== ((info.invert & OWNER.GID) === 0)) return false;
    }
    return true;
  },
});
