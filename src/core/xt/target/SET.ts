/**
 * The SET target, revision 3: adds to, deletes from or maps through an
 * ipset. iptables looks every set name up in the kernel while parsing;
 * nflab has no ipsets yet, so every name is reported missing, exactly as
 * the real iptables does on a machine without that set.
 */
import { strtoulRange } from '../../util/cnum.js';
import { defineTarget, paramError, type OptionCall } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { XT_CONTINUE } from '../verdict.js';

/** One set reference of xt_set_info_target_v3. */
export interface SetRef {
  /** Set name; '' when unused. */
  name: string;
  /** Direction words, 'src' or 'dst', one per dimension. */
  dirs: string[];
}

/** struct xt_set_info_target_v3. */
export interface SetTargetInfo {
  addSet: SetRef;
  delSet: SetRef;
  mapSet: SetRef;
  /** IPSET_FLAG_* bits (exist, map-mark, map-prio, map-queue). */
  flags: number;
  /** Entry timeout; 0xffffffff when not given. */
  timeout: number;
}

/** Option ids, equal to the bit positions of SET_TARGET_* flags. */
const O = { ADD: 0, DEL: 1, EXIST: 2, TIMEOUT: 3, MAP: 4, MAP_MARK: 5, MAP_PRIO: 6, MAP_QUEUE: 7 } as const;
const F = (id: number) => 1 << id;

/** IPSET_FLAG_* bits. */
const IPSET_FLAG = { EXIST: 1 << 0, MAP_SKBMARK: 1 << 5, MAP_SKBPRIO: 1 << 6, MAP_SKBQUEUE: 1 << 7 } as const;

/** Longest set name (IPSET_MAXNAMELEN - 1). */
const NAME_MAX = 31;

const NO_TIMEOUT = 0xffffffff;

/** parse_target: a set name and its direction list, which must come as two words. */
function parseSetRef(cb: OptionCall<SetTargetInfo>, ref: SetRef, what: string): void {
  if (ref.dirs.length) throw paramError(`--${what} can be specified only once`);
  const next = cb.peekArg();
  if (next === undefined || next[0] === '-' || next[0] === '!') throw paramError(`--${what} requires two args.`);
  const name = cb.arg!;
  if (name.length > NAME_MAX) throw paramError(`setname \`${name}' too long, max ${NAME_MAX} characters.`);
  // get_set_byname: the kernel knows no set of that name.
  throw paramError(`Set ${name} doesn't exist.\n`);
}

function refText(label: string, ref: SetRef): string {
  if (ref.name === '') return '';
  return ` ${label} ${ref.name} ${ref.dirs.join(',')}`;
}

function render(info: SetTargetInfo, dashes: string): string {
  let s = refText(`${dashes}add-set`, info.addSet);
  if (info.flags & IPSET_FLAG.EXIST) s += ` ${dashes}exist`;
  if (info.timeout !== NO_TIMEOUT) s += ` ${dashes}timeout ${info.timeout}`;
  s += refText(`${dashes}del-set`, info.delSet);
  s += refText(`${dashes}map-set`, info.mapSet);
  if (info.flags & IPSET_FLAG.MAP_SKBMARK) s += ` ${dashes}map-mark`;
  if (info.flags & IPSET_FLAG.MAP_SKBPRIO) s += ` ${dashes}map-prio`;
  if (info.flags & IPSET_FLAG.MAP_SKBQUEUE) s += ` ${dashes}map-queue`;
  return s;
}

const noRef = (): SetRef => ({ name: '', dirs: [] });

export const SET = defineTarget<SetTargetInfo>({
  name: 'SET',
  help: () => TARGET_HELP['SET']!,
  revision: 3,
  oldStyle: true,
  options: [
    { name: 'add-set', id: O.ADD, type: 'string' },
    { name: 'del-set', id: O.DEL, type: 'string' },
    { name: 'exist', id: O.EXIST, type: 'none' },
    { name: 'timeout', id: O.TIMEOUT, type: 'string' },
    { name: 'map-set', id: O.MAP, type: 'string' },
    { name: 'map-mark', id: O.MAP_MARK, type: 'none' },
    { name: 'map-prio', id: O.MAP_PRIO, type: 'none' },
    { name: 'map-queue', id: O.MAP_QUEUE, type: 'none' },
  ],
  init: () => ({ addSet: noRef(), delSet: noRef(), mapSet: noRef(), flags: 0, timeout: NO_TIMEOUT }),
  parse(cb) {
    const info = cb.info;
    switch (cb.entry.id) {
      case O.ADD:
        parseSetRef(cb, info.addSet, 'add-set');
        break;
      case O.DEL:
        parseSetRef(cb, info.delSet, 'del-set');
        break;
      case O.MAP:
        parseSetRef(cb, info.mapSet, 'map-set');
        break;
      case O.EXIST:
        info.flags |= IPSET_FLAG.EXIST;
        break;
      case O.TIMEOUT: {
        const t = strtoulRange(cb.arg!, 0, NO_TIMEOUT - 1);
        if (t === undefined)
          throw paramError(`Invalid value for option --timeout or out of range 0-${NO_TIMEOUT - 1}`);
        info.timeout = t;
        break;
      }
      case O.MAP_MARK:
        info.flags |= IPSET_FLAG.MAP_SKBMARK;
        break;
      case O.MAP_PRIO:
        info.flags |= IPSET_FLAG.MAP_SKBPRIO;
        break;
      case O.MAP_QUEUE:
        info.flags |= IPSET_FLAG.MAP_SKBQUEUE;
        break;
    }
  },
  final(cb) {
    const has = (id: number) => (cb.xflags & F(id)) !== 0;
    if (!has(O.ADD) && !has(O.DEL) && !has(O.MAP))
      throw paramError("You must specify either `--add-set' or `--del-set' or `--map-set'");
    if (!has(O.ADD)) {
      if (has(O.EXIST)) throw paramError("Flag `--exist' can be used with `--add-set' only");
      if (has(O.TIMEOUT)) throw paramError("Option `--timeout' can be used with `--add-set' only");
    }
    if (!has(O.MAP)) {
      if (has(O.MAP_MARK)) throw paramError("Flag `--map-mark' can be used with `--map-set' only");
      if (has(O.MAP_PRIO)) throw paramError("Flag `--map-prio' can be used with `--map-set' only");
      if (has(O.MAP_QUEUE)) throw paramError("Flag `--map-queue' can be used with `--map-set' only");
    }
    if (has(O.MAP) && !has(O.MAP_MARK) && !has(O.MAP_PRIO) && !has(O.MAP_QUEUE))
      throw paramError("You must specify flags `--map-mark' or '--map-prio` or `--map-queue'");
  },
  print: (info) => render(info, ''),
  save: (info) => render(info, '--'),
  // set_target_v3 adds, deletes or maps through its sets and always lets the
  // traversal go on; with no ipsets in the lab there is nothing to change
  target: () => XT_CONTINUE,
});
