/**
 * How the lab's programs (clients such as ping, nc, ssh, nmap, tcpdump,
 * and daemons such as sshd or vsftpd) run: each is a generator the lab's
 * scheduler drives on the virtual clock. A program yields a Wait and is
 * resumed when the time comes or when one of its sockets changes; it then
 * looks at its sockets again. It returns its exit status.
 *
 * Programs never touch the host system: files come through HostFs,
 * output through `out`/`err`, packets through the namespace's sockets.
 */
import type { Errno, SocketLayer } from '../stack/api.js';
import type { Machine } from '../path/machine.js';
import type { NsRef } from '../world/state.js';

/** Resume the program at `until` (virtual ns since boot) or earlier, when one of its sockets changes. */
export interface Wait {
  until: number;
}

/** The body of a running program: yields waits, returns the exit status. */
export type ProgramBody = Generator<Wait, number, void>;

/** A host's files (the lab machine's own /etc, /var/log, ...). */
export interface HostFs {
  /** The file's text, or undefined when it does not exist. */
  read(path: string): string | undefined;
  /** Replaces the file (atomically on disk). */
  write(path: string, text: string): void;
  /** Appends to the file, creating it. */
  append(path: string, text: string): void;
  /** Writes bytes (capture files). */
  writeBytes(path: string, data: Uint8Array): void;
  /** The file's bytes, or undefined when it does not exist (capture files). */
  readBytes?(path: string): Uint8Array | undefined;
}

/** A frame seen on an interface, as a capture sees it. */
export interface TappedFrame {
  /** Interface name. */
  iface: string;
  /** 'in': received; 'out': sent. */
  dir: 'in' | 'out';
  /** The Ethernet frame (do not modify). */
  frame: Uint8Array;
  /** Virtual time, ns since boot. */
  ns: number;
}

/** What a running program can use. */
export interface ProgramContext {
  /** The command line (argv[0] is the program's name as invoked). */
  readonly argv: string[];
  readonly pid: number;
  /** Where it runs. */
  readonly where: NsRef;
  /** The host's name as `hostname` prints it. */
  readonly hostname: string;
  /** The namespace's sockets. */
  readonly sockets: SocketLayer;
  /** The namespace's kernel (network state, conntrack, rules), for programs that read it (arp, ss). */
  readonly machine: Machine;
  /** The host's files. */
  readonly fs: HostFs;
  /** Standard input, when the command was given one. */
  readonly stdin: string;
  /** True when this run continues a background program started by an earlier command (print no start-up banner again). */
  readonly resumed: boolean;
  /** State a background program keeps between commands (JSON); starts undefined. */
  saved: unknown;
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** Virtual time, ns since boot. */
  now(): number;
  /** Wall-clock time, seconds since the epoch (with fraction). */
  wallSec(): number;
  /** A wait until `ns` from now. */
  sleep(ns: number): Wait;
  /** A wait until an absolute virtual time (Infinity: only socket changes wake it). */
  until(ns: number): Wait;
  /** Makes this run a background program: it keeps running after the command that started it returns. */
  background(opts?: { unit?: string; job?: number }): void;
  /** Receives every frame on `iface` (or on every interface when null) of this namespace; returns the function that stops it. Wakes the task. */
  tap(iface: string | null, fn: (f: TappedFrame) => void): () => void;
  /** Deterministic random numbers of the lab. */
  random32(): number;
  /** Resolves a host name through the host's /etc/hosts (or a dotted quad); null when unknown. */
  resolve(name: string): number | null;
  /** Starts another program in the same namespace (a daemon's session handler); returns its pid. */
  spawn(program: Program, argv: string[]): number;
  /** Wakes this program's task (for callbacks such as taps). */
  wake(): void;
}

/** A program of the lab machine. */
export type Program = (ctx: ProgramContext) => ProgramBody;

/** The text of an errno as the C library prints it. */
export type { Errno };
