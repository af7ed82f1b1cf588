/**
 * IPv4 and what it carries (TCP, UDP, ICMP) in tcpdump 4.99's line format:
 * "IP 10.0.0.1.38240 > 10.0.0.2.ssh: Flags [S], seq 419697165, win 64240,
 * options [mss 1460,...], length 0", with -v's header line, -q's short
 * form, relative TCP sequence numbers kept per connection, and the
 * payload summaries tcpdump gives at its usual ports (FTP, HTTP, SMTP,
 * SSH, DNS).
 */
import { formatIPv4 } from '../addr/ipv4.js';
import { get16, get32 } from './bytes.js';
import { checksumFinish, checksumPartial, pseudoHeaderSum } from './checksum.js';
import { formatDns } from './print-dns.js';
import { formatNtp } from './print-ntp.js';
import { formatSnmp } from './print-snmp.js';
import { IP_PROTOCOL_KEYWORDS, IP_PROTOCOL_TITLES } from './print-tables.js';
import { HTTP_COMMANDS, printableChar, textProtocol } from './print-text.js';

/** The name lookups the printer uses when -n is not given. */
export interface PrintNames {
  /** Host name for an IPv4 address (the host's /etc/hosts), or undefined. */
  hostName(addr: number): string | undefined;
  /** Service name for a port ("ssh"), or undefined. */
  serviceName(port: number, proto: 'tcp' | 'udp'): string | undefined;
  /** A name for an Ethernet address (the host's /etc/ethers), or undefined. */
  etherName?(mac: string): string | undefined;
  /** The name of an interface by index (for `-i any` captures), or undefined. */
  ifName?(ifindex: number): string | undefined;
}

/** Output options, one per tcpdump flag. */
export interface PrintOptions {
  /** -n: numbers instead of names. */
  numeric: boolean;
  /** -e: the link-level header. */
  ether: boolean;
  /** -v count. */
  verbose: number;
  /** -q: quiet (less protocol detail). */
  quiet: boolean;
  /** -S: absolute TCP sequence numbers. */
  absoluteSeq?: boolean;
}

/** What the IP printers share: options, names and the relative-sequence table. */
export interface IpPrintState {
  opts: PrintOptions;
  names: PrintNames;
  /** Initial sequence numbers per connection (keyed by addresses and ports in a fixed order). */
  tcpSeq: Map<string, { seq: number; ack: number }>;
  /** Names already looked up (tcpdump caches every lookup). */
  hostCache: Map<number, string>;
  /**
   * Set when the packet's decoding ran off the captured bytes where tcpdump
   * gives up at once (its bounds-checked reads): the -x/-X/-A dump then
   * starts at the link header.
   */
  jumped: boolean;
}


const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply', 4: 'source quench', 8: 'echo request', 10: 'router solicitation', 13: 'time stamp request',
  14: 'time stamp reply', 15: 'information request', 16: 'information reply', 17: 'address mask request',
};

/** Milliseconds since midnight as ICMP timestamps give them: "HH:MM:SS.mmm". */
function icmpStamp(t: number): string {
  const ms = t % 1000;
  let sec = Math.floor(t / 1000);
  let min = Math.floor(sec / 60);
  sec -= min * 60;
  const hrs = Math.floor(min / 60);
  min -= hrs * 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(hrs)}:${two(min)}:${two(sec)}.${String(ms).padStart(3, '0')}`;
}


/** An address as tcpdump shows it: the host name unless -n. */
export function hostString(st: IpPrintState, addr: number): string {
  if (st.opts.numeric) return formatIPv4(addr);
  let s = st.hostCache.get(addr);
  if (s === undefined) {
    s = st.names.hostName(addr) ?? formatIPv4(addr);
    st.hostCache.set(addr, s);
  }
  return s;
}

function portString(st: IpPrintState, port: number, proto: 'tcp' | 'udp'): string {
  if (st.opts.numeric) return String(port);
  return st.names.serviceName(port, proto) ?? String(port);
}

/** The one's complement sum of the IPv4 header at `off` is zero. */
function ipHeaderOk(buf: Uint8Array, off: number, hlen: number): number {
  return checksumFinish(checksumPartial(buf, off, hlen));
}

/** What a checksum field should have been, given the field and the sum computed over the data including it (in_cksum_shouldbe). */
function shouldBe(field: number, sum: number): number {
  let v = field + sum;
  v = (v & 0xffff) + (v >>> 16);
  v = (v & 0xffff) + (v >>> 16);
  return v & 0xffff;
}

/**
 * An IPv4 datagram at `buf[off]`, `length` bytes long on the wire, with
 * `capEnd` the end of the captured bytes. Returns the text after the
 * timestamp (and link header).
 */
export function formatIpv4(st: IpPrintState, buf: Uint8Array, off: number, length: number, capEnd: number): string {
  let s = st.opts.ether ? '' : 'IP ';
  if (off + 20 > capEnd) {
    if (off + 1 <= capEnd && buf[off]! >>> 4 !== 4) return `IP${buf[off]! >>> 4} (invalid)`;
    return s + ' [|ip]';
  }
  const version = buf[off]! >>> 4;
  if (version !== 4) return version === 6 ? 'IP6, wrong link-layer encapsulation (invalid)' : `IP${version} (invalid)`;
  if (length < 20) return s + `truncated-ip ${length}`;
  const hlen = (buf[off]! & 0x0f) * 4;
  if (hlen < 20) return s + `bad-hlen ${hlen}`;
  let len = get16(buf, off + 2);
  if (length < len) s += `truncated-ip - ${len - length} bytes missing! `;
  if (len < hlen) return s + `bad-len ${len}`;
  const end = Math.min(capEnd, off + len);
  const fragField = get16(buf, off + 6);
  const proto = buf[off + 9]!;
  const src = get32(buf, off + 12);
  const dst = get32(buf, off + 16);
  if (st.opts.verbose) {
    const tos = buf[off + 1]!;
    s += `(tos 0x${tos.toString(16)}`;
    s += ['', ',ECT(1)', ',ECT(0)', ',CE'][tos & 3];
    const ttl = buf[off + 8]!;
    if (ttl >= 1) s += `, ttl ${ttl}`;
    const fl: string[] = [];
    if (fragField & 0x8000) fl.push('rsvd');
    if (fragField & 0x4000) fl.push('DF');
    if (fragField & 0x2000) fl.push('+');
    s += `, id ${get16(buf, off + 4)}, offset ${(fragField & 0x1fff) * 8}, flags [${fl.length ? fl.join(', ') : 'none'}]`;
    s += `, proto ${IP_PROTOCOL_TITLES[proto] ?? 'unknown'} (${proto}), length ${len}`;
    if (hlen > 20) s += `, options (${ipOptions(buf, off + 20, Math.min(off + hlen, capEnd))})`;
    if (off + hlen <= capEnd) {
      const sum = ipHeaderOk(buf, off, hlen);
      if (sum !== 0) {
        const f = get16(buf, off + 10);
        s += `, bad cksum ${f.toString(16)} (->${shouldBe(f, sum).toString(16)})!`;
      }
    }
    s += ')\n    ';
  }
  len -= hlen;
  if ((fragField & 0x1fff) === 0) {
    if (proto !== 6 && proto !== 17 && proto !== 132 && proto !== 33) {
      s += `${hostString(st, src)} > ${hostString(st, dst)}: `;
    }
    if (off + hlen > capEnd) {
      st.jumped = true;
      return s + ` [remaining caplen(${capEnd - off}) < header length(${hlen})] [|ip]`;
    }
    const l4 = off + hlen;
    const mf = (fragField & 0x2000) !== 0;
    switch (proto) {
      case 6:
        return s + formatTcp(st, buf, l4, len, end, off, mf);
      case 17:
        return s + formatUdp(st, buf, l4, len, end, off, mf);
      case 1:
        return s + formatIcmp(st, buf, l4, len, end, off, mf);
      default: {
        const name = st.opts.numeric ? undefined : IP_PROTOCOL_KEYWORDS[proto];
        return s + (name !== undefined ? ` ${name} ${len}` : ` ip-proto-${proto} ${len}`);
      }
    }
  }
  s += `${hostString(st, src)} > ${hostString(st, dst)}:`;
  const pname = st.opts.numeric ? undefined : IP_PROTOCOL_KEYWORDS[proto];
  s += pname !== undefined ? ` ${pname}` : ` ip-proto-${proto}`;
  return s;
}

/** IP options as tcpdump lists them inside "options (...)". Only the common ones are named. */
function ipOptions(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  let p = from;
  while (p < to) {
    const t = buf[p]!;
    if (t === 0) {
      s += 'EOL';
      const rest = to - p;
      if (rest > 1) s += `-${rest - 1} bytes`;
      return s;
    }
    if (t === 1) {
      s += 'NOP';
      p++;
      continue;
    }
    if (p + 1 >= to) return s + `${optName(t)} [bad length 1]`;
    const l = buf[p + 1]!;
    if (l < 2 || p + l > to) return s + `${optName(t)} [bad length ${l}]`;
    s += optName(t);
    if (t === 148 && l === 4) {
      const v = get16(buf, p + 2);
      if (v !== 0) s += ` value ${v}`;
    } else if (l !== ({ 148: 4 } as Record<number, number>)[t]) {
      s += ` [bad length ${l}]`;
    }
    p += l;
  }
  return s;
}

function optName(t: number): string {
  const n: Record<number, string> = { 7: 'RR', 68: 'TS', 130: 'security', 131: 'LSRR', 137: 'SSRR', 148: 'RA', 136: 'SID' };
  return n[t] ?? `unknown (${t})`;
}

const TCP_FLAG_LETTERS: [number, string][] = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

const TCP_OPT_NAMES: Record<number, string> = {
  0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 6: 'echo', 7: 'echoreply', 8: 'TS', 11: 'cc',
  12: 'ccnew', 13: '', 19: 'md5', 20: 'scps', 28: 'uto', 29: 'tcp-ao', 30: 'mptcp', 34: 'tfo', 254: 'exp',
};

/** A TCP Fast Open cookie option's data (" cookiereq", " cookie HEX" or " (invalid)"). */
function fastOpen(buf: Uint8Array, at: number, len: number): string {
  if (len === 0) return ' cookiereq';
  if (len % 2 !== 0 || len < 4 || len > 16) return ' (invalid)';
  let s = ' cookie ';
  for (let i = 0; i < len; i++) s += buf[at + i]!.toString(16).padStart(2, '0');
  return s;
}


function tcpChecksum(buf: Uint8Array, ip: number, l4: number, len: number): number {
  const init = pseudoHeaderSum(get32(buf, ip + 12), get32(buf, ip + 16), 6, len);
  return checksumFinish(checksumPartial(buf, l4, len, init));
}

function udpChecksum(buf: Uint8Array, ip: number, l4: number, len: number): number {
  const init = pseudoHeaderSum(get32(buf, ip + 12), get32(buf, ip + 16), 17, len);
  return checksumFinish(checksumPartial(buf, l4, len, init));
}

/** A TCP segment (tcp_print). `ip` is the offset of its IPv4 header. */
function formatTcp(st: IpPrintState, buf: Uint8Array, tp: number, length: number, capEnd: number, ip: number, fragmented: boolean): string {
  const src = get32(buf, ip + 12);
  const dst = get32(buf, ip + 16);
  if (tp + 4 > capEnd) return `${hostString(st, src)} > ${hostString(st, dst)}: [|tcp]`;
  const sport = get16(buf, tp);
  const dport = get16(buf, tp + 2);
  let s = `${hostString(st, src)}.${portString(st, sport, 'tcp')} > ${hostString(st, dst)}.${portString(st, dport, 'tcp')}: `;
  if (tp + 20 > capEnd) return s + ' [|tcp]';
  let hlen = (buf[tp + 12]! >>> 4) * 4;
  if (hlen < 20) return s + ` tcp ${length - hlen} [bad hdr length ${hlen} - too short, < 20]`;
  let seq = get32(buf, tp + 4);
  let ack = get32(buf, tp + 8);
  const win = get16(buf, tp + 14);
  const urp = get16(buf, tp + 18);
  if (st.opts.quiet) {
    s += `tcp ${length - hlen}`;
    if (hlen > length) s += ` [bad hdr length ${hlen} - too long, > ${length}]`;
    return s;
  }
  const flags = buf[tp + 13]!;
  let fl = '';
  for (const [bit, ch] of TCP_FLAG_LETTERS) if (flags & bit) fl += ch;
  s += `Flags [${fl || 'none'}]`;
  let rev = false;
  let thseq = 0;
  let thack = 0;
  if (!st.opts.absoluteSeq && flags & 0x10) {
    if (sport > dport) rev = true;
    else if (sport === dport && (src >>> 0) > (dst >>> 0)) rev = true;
    const key = rev ? `${dst},${src},${dport},${sport}` : `${src},${dst},${sport},${dport}`;
    let th = st.tcpSeq.get(key);
    if (!th || flags & 0x02) {
      th = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
      st.tcpSeq.set(key, th);
    } else if (rev) {
      seq = (seq - th.ack) >>> 0;
      ack = (ack - th.seq) >>> 0;
    } else {
      seq = (seq - th.seq) >>> 0;
      ack = (ack - th.ack) >>> 0;
    }
    thseq = th.seq;
    thack = th.ack;
  }
  if (hlen > length) return s + ` [bad hdr length ${hlen} - too long, > ${length}]`;
  if (st.opts.verbose && !fragmented && tp + length <= capEnd) {
    const sum = tcpChecksum(buf, ip, tp, length);
    const field = get16(buf, tp + 16);
    s += `, cksum 0x${field.toString(16).padStart(4, '0')}`;
    s += sum !== 0 ? ` (incorrect -> 0x${shouldBe(field, sum).toString(16).padStart(4, '0')})` : ' (correct)';
  }
  length -= hlen;
  if (st.opts.verbose > 1 || length > 0 || flags & 0x07) {
    s += `, seq ${seq}`;
    if (length > 0) s += `:${(seq + length) >>> 0}`;
  }
  if (flags & 0x10) s += `, ack ${ack}`;
  s += `, win ${win}`;
  if (flags & 0x20) s += `, urg ${urp}`;
  if (hlen > 20) {
    const opt = formatTcpOptions(buf, tp + 20, hlen - 20, capEnd, rev, thseq, thack);
    s += opt.text;
    if (opt.jumped) st.jumped = true;
    if (opt.stop) return s;
  }
  s += `, length ${length}`;
  if (length === 0) return s;
  const hl = (buf[tp + 12]! >>> 4) * 4;
  if (tp + hl > capEnd) {
    st.jumped = true;
    return s + ` [remaining caplen(${capEnd - tp}) < header length(${hl})] [|tcp]`;
  }
  const data = tp + hl;
  if (flags & 0x04 && st.opts.verbose) return s + rstData(buf, data, length, capEnd);
  const isPort = (p: number) => sport === p || dport === p;
  if (isPort(23)) return s;
  const cut = () => (st.jumped = true);
  if (isPort(25)) return s + ': ' + textProtocol('smtp', buf, data, length, capEnd, st.opts.verbose, cut);
  if (isPort(22)) return s + sshVersion(buf, data, length, capEnd, cut);
  if (isPort(21)) return s + ': ' + textProtocol('ftp', buf, data, length, capEnd, st.opts.verbose, cut);
  if (isPort(80) || isPort(8080)) return s + ': ' + textProtocol('http', buf, data, length, capEnd, st.opts.verbose, cut, HTTP_COMMANDS, true);
  if (isPort(53)) {
    if (length < 2) return s + ` [DNS over TCP: length ${length} < 2] (invalid)`;
    if (data + 2 > capEnd) {
      st.jumped = true;
      return s + ' [|domain]';
    }
    const pre = get16(buf, data);
    if (pre !== length - 2) return s + ` [prefix length(${pre}) != length(${length - 2})] (invalid)`;
    return s + ' ' + formatDns(buf, data + 2, length - 2, capEnd, st.opts.verbose);
  }
  return s;
}

/** The version line an SSH peer starts with (": SSH: SSH-2.0-..."), or nothing for other data. */
function sshVersion(buf: Uint8Array, p: number, len: number, capEnd: number, cut: () => void): string {
  for (let i = 0; i < 4; i++) {
    if (p + i >= capEnd) {
      cut();
      return ' [|ssh]';
    }
    if (buf[p + i] !== 'SSH-'.charCodeAt(i)) return '';
  }
  for (let i = 4; i < len; i++) {
    if (p + i >= capEnd) {
      cut();
      return ' [|ssh]';
    }
    const c = buf[p + i]!;
    if (c === 0x0a) return ': SSH: ' + latin(buf, p, p + i);
    if (c === 0x0d) {
      if (i + 1 >= len) return '';
      if (p + i + 1 >= capEnd) {
        cut();
        return ' [|ssh]';
      }
      if (buf[p + i + 1] === 0x0a) return ': SSH: ' + latin(buf, p, p + i);
      return '';
    }
    if (c < 0x20 || c > 0x7e) return '';
  }
  return '';
}

function latin(buf: Uint8Array, from: number, to: number): string {
  let t = '';
  for (let k = from; k < to; k++) t += String.fromCharCode(buf[k]!);
  return t;
}

function rstData(buf: Uint8Array, p: number, length: number, capEnd: number): string {
  let s = p + length <= capEnd ? ' [RST' : ' [!RST';
  if (length > 30) {
    length = 30;
    s += '+';
  }
  s += ' ';
  for (let i = 0; i < length && p + i < capEnd; i++) s += printableChar(buf[p + i]!);
  return s + ']';
}

/** A failed length check in the options: "[bad opt]" when the header is too short, the truncation mark when the capture is. */
function optFail(s: string, ch: string, badLength: boolean): { text: string; stop: boolean } {
  if (badLength) return { text: s + '[bad opt]' + (ch ? ']' : ''), stop: true };
  return { text: s + ' [|tcp]' + (ch ? '>' : ''), stop: true };
}

/** The ", options [...]" part; `stop` when a bad option ended the line there (tcpdump prints nothing more). */
function formatTcpOptions(
  buf: Uint8Array,
  from: number,
  hlen: number,
  capEnd: number,
  rev: boolean,
  thseq: number,
  thack: number,
): { text: string; stop: boolean; jumped?: boolean } {
  let s = ', options [';
  let cp = from;
  let ch = '';
  while (hlen > 0) {
    s += ch;
    if (cp >= capEnd) return { text: s + ' [|tcp]', stop: true, jumped: true };
    const opt = buf[cp++]!;
    let len: number;
    if (opt === 0 || opt === 1) len = 1;
    else {
      if (cp >= capEnd) return { text: s + ' [|tcp]', stop: true, jumped: true };
      len = buf[cp++]!;
      if (len < 2 || len > hlen) return { text: s + '[bad opt]' + (ch ? ']' : ''), stop: true };
      hlen--;
    }
    hlen--;
    let datalen = 0;
    s += TCP_OPT_NAMES[opt] ?? `unknown-${opt}`;
    const bad = (l: number) => l > hlen || cp + l > capEnd;
    switch (opt) {
      case 2:
        datalen = 2;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        s += ` ${get16(buf, cp)}`;
        break;
      case 3:
        datalen = 1;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        s += ` ${buf[cp]!}`;
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 !== 0) s += ' invalid sack';
        else {
          s += ` ${datalen / 8} `;
          for (let i = 0; i < datalen; i += 8) {
            if (bad(i + 8)) return optFail(s, ch, i + 8 > hlen);
            let a = get32(buf, cp + i);
            let b = get32(buf, cp + i + 4);
            if (rev) {
              a = (a - thseq) >>> 0;
              b = (b - thseq) >>> 0;
            } else {
              a = (a - thack) >>> 0;
              b = (b - thack) >>> 0;
            }
            s += `{${a}:${b}}`;
          }
        }
        break;
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
        datalen = 4;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        s += ` ${get32(buf, cp)}`;
        break;
      case 8:
        datalen = 8;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        s += ` val ${get32(buf, cp)} ecr ${get32(buf, cp + 4)}`;
        break;
      case 0:
      case 1:
      case 4:
        break;
      case 19:
        datalen = 16;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        s += " shared secret not supplied with -M, can't check - ";
        for (let i = 0; i < 16; i++) s += buf[cp + i]!.toString(16).padStart(2, '0');
        break;
      case 20:
        datalen = 2;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        s += ` cap ${buf[cp]!.toString(16).padStart(2, '0')} id ${buf[cp + 1]!}`;
        break;
      case 29:
        datalen = len - 2;
        if (datalen < 2) s += ' (invalid)';
        else {
          if (bad(2)) return optFail(s, ch, 2 > hlen);
          s += ` keyid ${buf[cp]!} rnextkeyid ${buf[cp + 1]!}`;
          if (datalen > 2) {
            s += ' mac 0x';
            for (let i = 2; i < datalen; i++) {
              if (bad(i + 1)) return optFail(s, ch, i + 1 > hlen);
              s += buf[cp + i]!.toString(16).padStart(2, '0');
            }
          }
        }
        break;
      case 34:
        datalen = len - 2;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        s += ' ' + fastOpen(buf, cp, datalen);
        break;
      case 254: {
        datalen = len - 2;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        if (datalen < 2) return { text: s + '[bad opt]' + (ch ? ']' : ''), stop: true };
        const magic = get16(buf, cp);
        s += '-';
        s += magic === 0xf989 ? 'tfo' + fastOpen(buf, cp + 2, datalen - 2) : magic.toString(16).padStart(4, '0');
        break;
      }
      case 28: {
        datalen = 2;
        if (bad(datalen)) return optFail(s, ch, datalen > hlen);
        let v = get16(buf, cp);
        s += ` 0x${v.toString(16)}`;
        v = v & 1 ? (v >>> 1) * 60 : v >>> 1;
        s += ` ${v}`;
        break;
      }
      default:
        datalen = len - 2;
        if (datalen) s += ' 0x';
        for (let i = 0; i < datalen; i++) {
          if (bad(i + 1)) return optFail(s, ch, i + 1 > hlen);
          s += buf[cp + i]!.toString(16).padStart(2, '0');
        }
        break;
    }
    cp += datalen;
    hlen -= datalen;
    let seen = datalen + 1;
    if (opt !== 0 && opt !== 1) seen++;
    if (seen !== len) s += `[len ${len}]`;
    ch = ',';
    if (opt === 0) break;
  }
  return { text: s + ']', stop: false };
}

/** A UDP datagram (udp_print); ports where tcpdump has a decoder other than DNS print as plain UDP here. */
function formatUdp(st: IpPrintState, buf: Uint8Array, up: number, length: number, capEnd: number, ip: number, fragmented: boolean): string {
  const src = get32(buf, ip + 12);
  const dst = get32(buf, ip + 16);
  const addrs = () => `${hostString(st, src)} > ${hostString(st, dst)}: `;
  if (up + 4 > capEnd) return addrs() + ' [|udp]';
  const sport = get16(buf, up);
  const dport = get16(buf, up + 2);
  const addrPorts = () =>
    `${hostString(st, src)}.${portString(st, sport, 'udp')} > ${hostString(st, dst)}.${portString(st, dport, 'udp')}: `;
  if (length < 8) return addrPorts() + `truncated-udp ${length}`;
  if (up + 6 > capEnd) return addrPorts() + ' [|udp]';
  let ulen = get16(buf, up + 4);
  if (ulen === 0 && length > 65535) ulen = length;
  if (ulen < 8) return addrPorts() + `truncated-udplength ${ulen}`;
  ulen -= 8;
  length -= 8;
  if (ulen < length) length = ulen;
  const cp = up + 8;
  if (cp > capEnd) return addrPorts() + ' [|udp]';
  let s = addrPorts();
  if (st.opts.verbose > 1 && !fragmented) {
    const field = get16(buf, up + 6);
    if (field === 0) s += '[no cksum] ';
    else if (cp + length <= capEnd) {
      const sum = udpChecksum(buf, ip, up, length + 8);
      s += sum !== 0 ? `[bad udp cksum 0x${field.toString(16).padStart(4, '0')} -> 0x${shouldBe(field, sum).toString(16).padStart(4, '0')}!] ` : '[udp sum ok] ';
    }
  }
  const plain = () => (ulen > length && !fragmented ? `UDP, bad length ${ulen} > ${length}` : `UDP, length ${ulen}`);
  if (!st.opts.quiet && (sport === 53 || dport === 53 || sport === 5353 || dport === 5353)) return s + formatDns(buf, cp, length, capEnd, st.opts.verbose);
  if (!st.opts.quiet && (sport === 161 || dport === 161 || sport === 162 || dport === 162)) {
    const snmp = formatSnmp(buf, cp, length, capEnd, st.opts.verbose);
    if (snmp !== undefined) return s + snmp;
  }
  if (!st.opts.quiet && (sport === 123 || dport === 123)) {
    const ntp = formatNtp(buf, cp, length, capEnd, st.opts.verbose);
    if (ntp === undefined) {
      st.jumped = true;
      return s + ' [|ntp]';
    }
    return s + ntp;
  }
  return s + plain();
}

function icmpUnreachText(st: IpPrintState, buf: Uint8Array, dp: number, code: number, capEnd: number): string {
  const oip = dp + 8;
  if (oip + 20 > capEnd) throw new IcmpTrunc();
  const odst = hostString(st, get32(buf, oip + 16));
  switch (code) {
    case 0:
      return `net ${odst} unreachable`;
    case 1:
      return `host ${odst} unreachable`;
    case 2:
      return `${odst} protocol ${buf[oip + 9]!} unreachable`;
    case 3: {
      const ohl = (buf[oip]! & 0x0f) * 4;
      if (oip + ohl + 4 > capEnd) throw new IcmpTrunc();
      const dport = get16(buf, oip + ohl + 2);
      const p = buf[oip + 9]!;
      if (p === 6) return `${odst} tcp port ${portString(st, dport, 'tcp')} unreachable`;
      if (p === 17) return `${odst} udp port ${portString(st, dport, 'udp')} unreachable`;
      return `${odst} protocol ${p} port ${dport} unreachable`;
    }
    case 4: {
      const mtu = get16(buf, dp + 6);
      return mtu ? `${odst} unreachable - need to frag (mtu ${mtu})` : `${odst} unreachable - need to frag`;
    }
    case 5:
      return `${odst} unreachable - source route failed`;
    case 6:
      return `net ${odst} unreachable - unknown`;
    case 7:
      return `host ${odst} unreachable - unknown`;
    case 8:
      return `${odst} unreachable - source host isolated`;
    case 9:
      return `net ${odst} unreachable - admin prohibited`;
    case 10:
      return `host ${odst} unreachable - admin prohibited`;
    case 11:
      return `net ${odst} unreachable - tos prohibited`;
    case 12:
      return `host ${odst} unreachable - tos prohibited`;
    case 13:
      return `host ${odst} unreachable - admin prohibited filter`;
    case 14:
      return `host ${odst} unreachable - host precedence violation`;
    case 15:
      return `host ${odst} unreachable - precedence cutoff`;
    default:
      return `${odst} unreachable - #${code}`;
  }
}

/** The ICMP message ends before a field: `local` when tcpdump checks the length first (no jump out of the packet). */
class IcmpTrunc extends Error {
  constructor(readonly local = false) {
    super('icmp');
  }
}

/** An ICMP message (icmp_print), with -v the quoted datagram of errors on the next line. */
function formatIcmp(st: IpPrintState, buf: Uint8Array, dp: number, plen: number, capEnd: number, _ip: number, fragmented: boolean): string {
  if (dp + 2 > capEnd) {
    st.jumped = true;
    return ' [|icmp]';
  }
  const type = buf[dp]!;
  const code = buf[dp + 1]!;
  let str: string;
  try {
    switch (type) {
      case 0:
      case 8:
        if (dp + 8 > capEnd) throw new IcmpTrunc();
        str = `echo ${type === 8 ? 'request' : 'reply'}, id ${get16(buf, dp + 4)}, seq ${get16(buf, dp + 6)}`;
        break;
      case 3:
        str = icmpUnreachText(st, buf, dp, code, capEnd);
        break;
      case 5: {
        if (dp + 28 > capEnd) throw new IcmpTrunc();
        const d = hostString(st, get32(buf, dp + 24));
        const g = hostString(st, get32(buf, dp + 4));
        const kinds = ['redirect %s to net %s', 'redirect %s to host %s', 'redirect-tos %s to net %s', 'redirect-tos %s to host %s'];
        str = code < 4 ? kinds[code]!.replace('%s', d).replace('%s', g) : `redirect-#${code} ${d} to ${g}`;
        break;
      }
      case 11:
        if (dp + 28 > capEnd) throw new IcmpTrunc(true);
        str = code === 0 ? 'time exceeded in-transit' : code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${code}`;
        break;
      case 12:
        if (code) str = `parameter problem - code ${code}`;
        else {
          if (dp + 5 > capEnd) throw new IcmpTrunc();
          str = `parameter problem - octet ${buf[dp + 4]!}`;
        }
        break;
      case 18:
        if (dp + 12 > capEnd) throw new IcmpTrunc();
        str = `address mask is 0x${get32(buf, dp + 8).toString(16).padStart(8, '0')}`;
        break;
      case 13:
        if (dp + 8 > capEnd) throw new IcmpTrunc();
        str = `time stamp query id ${get16(buf, dp + 4)} seq ${get16(buf, dp + 6)}`;
        break;
      case 14:
        if (dp + 20 > capEnd) throw new IcmpTrunc(true);
        str = `time stamp reply id ${get16(buf, dp + 4)} seq ${get16(buf, dp + 6)}: org ${icmpStamp(get32(buf, dp + 8))}`;
        str += `, recv ${icmpStamp(get32(buf, dp + 12))}, xmit ${icmpStamp(get32(buf, dp + 16))}`;
        break;
      case 9: {
        if (dp + 8 > capEnd) throw new IcmpTrunc();
        const life = get16(buf, dp + 6);
        str = 'router advertisement lifetime ';
        if (life < 60) str += String(life);
        else if (life < 3600) str += `${Math.floor(life / 60)}:${String(life % 60).padStart(2, '0')}`;
        else str += `${Math.floor(life / 3600)}:${String(Math.floor((life % 3600) / 60)).padStart(2, '0')}:${String(life % 60).padStart(2, '0')}`;
        let num = buf[dp + 4]!;
        const size = buf[dp + 5]!;
        str += ` ${num}:`;
        if (size !== 2) {
          str += ` [size ${size}]`;
          break;
        }
        let at = dp + 8;
        while (num > 0) {
          if (at + 8 > capEnd) throw new IcmpTrunc();
          str += ` {${hostString(st, get32(buf, at))} ${get32(buf, at + 4)}}`;
          at += 8;
          num--;
        }
        break;
      }
      default:
        str = ICMP_TYPES[type] ?? `type-#${type}`;
        break;
    }
  } catch (e) {
    if (!(e instanceof IcmpTrunc)) throw e;
    if (!e.local) st.jumped = true;
    return ' [|icmp]';
  }
  let s = `ICMP ${str}, length ${plen}`;
  if (st.opts.verbose && !fragmented && dp + plen <= capEnd) {
    const sum = checksumFinish(checksumPartial(buf, dp, plen));
    if (sum !== 0) {
      const f = get16(buf, dp + 2);
      s += ` (wrong icmp cksum ${f.toString(16)} (->${shouldBe(f, sum).toString(16)})!)`;
    }
  }
  if (st.opts.verbose && (type === 3 || type === 4 || type === 5 || type === 11 || type === 12)) {
    const q = dp + 8;
    s += '\n\t';
    if (q + 4 > capEnd) return s + ' [|icmp]';
    const qlen = get16(buf, q + 2);
    s += formatIpv4(st, buf, q, qlen, Math.min(capEnd, q + qlen));
  }
  return s;
}
