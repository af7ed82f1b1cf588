/**
 * vsftpd's directory listings: LIST lines in its own `ls -l` format
 * (numeric owner and group, sizes in 8 columns, "Mon dd HH:MM" for the
 * last six months and "Mon dd  YYYY" otherwise), NLST names, sorted by
 * name, dot files left out unless asked for.
 *
 * The host's files come through `HostFs`; listing a directory needs the
 * optional `list`/`stat` calls described by `DirFs`. A host whose files
 * do not offer them has directories that look empty and files whose size
 * is the length of their text.
 */
import type { HostFs } from './api.js';

/** One file or directory as a listing shows it. */
export interface FsEntry {
  name: string;
  type: 'file' | 'dir' | 'link';
  size: number;
  /** Modification time, seconds since the epoch. */
  mtimeSec: number;
  /** Permission bits (0o644 ...); the type's usual ones when absent. */
  mode?: number;
  uid?: number;
  gid?: number;
  nlink?: number;
}

/** Directory access a host's files may offer besides HostFs. */
export interface DirFs {
  /** The entries of a directory (without . and ..), or undefined when it is not one. */
  list(path: string): FsEntry[] | undefined;
  /** One file or directory, or undefined when it does not exist. */
  stat(path: string): FsEntry | undefined;
  /** False when the host's files cannot tell directories apart (a path without a file is then taken for one). */
  exact?: boolean;
}

/** The directory access of a host's files: its own when it has one, else what HostFs alone can tell. */
export function dirAccess(fs: HostFs): DirFs {
  const rich = fs as HostFs & Partial<DirFs>;
  if (typeof rich.list === 'function' && typeof rich.stat === 'function') {
    return { list: (p) => rich.list!(p), stat: (p) => rich.stat!(p) };
  }
  return {
    exact: false,
    list: () => [],
    stat: (p) => {
      const text = fs.read(p);
      if (text === undefined) return p === '/' || p.endsWith('/') ? dirEntry(p) : dirEntryIfHome(p);
      return { name: baseName(p), type: 'file', size: new TextEncoder().encode(text).length, mtimeSec: 0 };
    },
  };
}

function dirEntry(p: string): FsEntry {
  return { name: baseName(p), type: 'dir', size: 4096, mtimeSec: 0 };
}

/** Without a directory call, a path with no file text is taken for a directory (homes exist). */
function dirEntryIfHome(p: string): FsEntry {
  return dirEntry(p);
}

/** The last part of a path. */
export function baseName(p: string): string {
  const t = p.replace(/\/+$/, '');
  const i = t.lastIndexOf('/');
  return i < 0 ? t : t.slice(i + 1) || '/';
}

/** Joins and normalises paths as a chdir would ('..' and '.' resolved). */
export function resolvePath(cwd: string, arg: string): string {
  const parts = (arg.startsWith('/') ? arg : `${cwd}/${arg}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The date column: "%b %d %H:%M", or "%b %d  %Y" for a future time or one over 182 days old (UTC). */
export function lsDate(mtimeSec: number, nowSec: number): string {
  const d = new Date(mtimeSec * 1000);
  const head = `${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())}`;
  if (mtimeSec > nowSec || nowSec - mtimeSec > 60 * 60 * 24 * 182) return `${head}  ${d.getUTCFullYear()}`;
  return `${head} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

function permString(e: FsEntry): string {
  const mode = e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'link' ? 0o777 : 0o644);
  const t = e.type === 'dir' ? 'd' : e.type === 'link' ? 'l' : '-';
  const rwx = (bits: number): string => (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (bits & 1 ? 'x' : '-');
  return t + rwx(mode >> 6) + rwx(mode >> 3) + rwx(mode);
}

function padLeft(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

function padRight(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

/** One LIST line (without CRLF). `owner` gives uid/gid for entries that do not carry them. */
export function listLine(e: FsEntry, nowSec: number, owner: { uid: number; gid: number }, hideIds = false): string {
  const uid = hideIds ? 'ftp' : String(e.uid ?? owner.uid);
  const gid = hideIds ? 'ftp' : String(e.gid ?? owner.gid);
  const nlink = e.nlink ?? (e.type === 'dir' ? 2 : 1);
  return (
    `${permString(e)} ${padLeft(String(nlink), 4)} ${padRight(uid, 8)} ${padRight(gid, 8)} ` +
    `${padLeft(String(e.size), 8)} ${lsDate(e.mtimeSec, nowSec)} ${e.name}`
  );
}

/** The entries a listing shows, sorted by name as vsftpd sorts them (byte order), dot files only with `all`. */
export function listedEntries(entries: FsEntry[], all: boolean): FsEntry[] {
  const shown = entries.filter((e) => all || !e.name.startsWith('.'));
  return shown.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
