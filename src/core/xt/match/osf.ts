/**
 * The osf match: passive OS fingerprinting of TCP SYNs by genre, with TTL
 * and logging options. The kernel binds it to TCP (-p tcp) and to
 * PREROUTING, INPUT and FORWARD.
 */
import { requireProto } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { hooksOnly } from './conn-util.js';
import { truncateBytes } from './comment.js';

/** xt_osf_info. */
export interface OsfInfo {
  genre: string;
  len: number;
  /** XT_OSF_GENRE (1), XT_OSF_TTL (2), XT_OSF_LOG (4), XT_OSF_INVERT (8). */
  flags: number;
  loglevel: number;
  ttl: number;
}

const F_TTL = 2;
const F_LOG = 4;
const F_INVERT = 8;
/** MAXGENRELEN. */
const MAXGENRELEN = 32;

/** What `iptables -m osf -h` adds after the general help. */
const HELP =
  'OS fingerprint match options:\n' +
  '[!] --genre string     Match a OS genre by passive fingerprinting.\n' +
  '--ttl level            Use some TTL check extensions to determine OS:\n' +
  '       0                       true ip and fingerprint TTL comparison. Works for LAN.\n' +
  '       1                       check if ip TTL is less than fingerprint one. Works for global addresses.\n' +
  '       2                       do not compare TTL at all. This allows NMAP detection, but can produce false results.\n' +
  '--log level            Log determined genres into dmesg even if they do not match desired one:\n' +
  '       0                       log all matched or unknown signatures.\n' +
  '       1                       log only first one.\n' +
  '       2                       log all known matched signatures.\n';

/** The osf match (-m osf). */
export const osf = defineMatch<OsfInfo>({
  name: 'osf',
  family: 'ipv4',
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  help: () => HELP,
  options: [
    { name: 'genre', id: 0, type: 'string', invert: true, mandatory: true },
    { name: 'ttl', id: 1, type: 'uint32', min: 0, max: 2 },
    { name: 'log', id: 2, type: 'uint32', min: 0, max: 2 },
  ],
  init: () => ({ genre: '', len: 0, flags: 0, loglevel: 0, ttl: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case 0:
        info.genre = truncateBytes(cb.arg ?? '', MAXGENRELEN - 1);
        info.len = new TextEncoder().encode(info.genre).length;
        if (cb.invert) info.flags |= F_INVERT;
        break;
      case 1:
        info.ttl = cb.val.num!;
        info.flags |= F_TTL;
        break;
      case 2:
        info.loglevel = cb.val.num!;
        info.flags |= F_LOG;
        break;
    }
  },
  check: (_info, ctx) => requireProto(ctx, 6) ?? hooksOnly(ctx, ['PREROUTING', 'INPUT', 'FORWARD']),
  print: (info) => ` OS fingerprint match ${info.flags & F_INVERT ? '! ' : ''}${info.genre}`,
  save(info) {
    let s = `${info.flags & F_INVERT ? ' !' : ''} --genre ${info.genre}`;
    if (info.flags & F_TTL) s += ` --ttl ${info.ttl}`;
    if (info.flags & F_LOG) s += ` --log ${info.loglevel}`;
    return s;
  },
  // No fingerprints are loaded (nfnl_osf never ran), so no genre is ever
  // recognised; nf_osf_match ignores the inversion flag altogether.
  match: () => false,
});
