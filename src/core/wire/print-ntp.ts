/**
 * NTP messages as tcpdump prints them on port 123: "NTPv4, Client, length
 * 48", and with -v the header fields and the four timestamps (seconds
 * since 1900 with nine decimals and the UTC date).
 */
import { get16, get32 } from './bytes.js';

const MODES = ['unspecified', 'symmetric active', 'symmetric passive', 'Client', 'Server', 'Broadcast', 'Control Message', 'Reserved'];
const LEAP: Record<number, string> = { 0: '', 0x40: '+1s', 0x80: '-1s', 0xc0: 'clock unsynchronized' };
/** Seconds from 1900 (NTP's epoch) to 1970. */
const JAN_1970 = 2208988800;

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** An NTP timestamp: "seconds.nanoseconds", with the UTC date when the seconds are not zero. */
function ntpTime(buf: Uint8Array, at: number): string {
  const i = get32(buf, at);
  const f = Math.trunc((get32(buf, at + 4) / 4294967296) * 1e9);
  let s = `${i}.${String(f).padStart(9, '0')}`;
  if (i) {
    const d = new Date((i - JAN_1970) * 1000);
    s += ` (${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}Z)`;
  }
  return s;
}

/** The difference of two timestamps as tcpdump's p_ntp_delta prints it (the time itself when the first is zero). */
function ntpDelta(buf: Uint8Array, oldAt: number, at: number): string {
  const ou = get32(buf, oldAt);
  const ouf = get32(buf, oldAt + 4);
  if (ou === 0 && ouf === 0) return ntpTime(buf, at);
  const u = get32(buf, at);
  const uf = get32(buf, at + 4);
  let neg: boolean;
  let i: number;
  let f: number;
  if (u > ou) {
    neg = false;
    i = u - ou;
    f = (uf - ouf) >>> 0;
    if (ouf > uf) i -= 1;
  } else if (u < ou) {
    neg = true;
    i = ou - u;
    f = (ouf - uf) >>> 0;
    if (uf > ouf) i -= 1;
  } else {
    i = 0;
    neg = !(uf > ouf);
    f = neg ? (ouf - uf) >>> 0 : (uf - ouf) >>> 0;
  }
  const ns = Math.trunc((f / 4294967296) * 1e9);
  return `${neg ? '-' : '+'}${i >>> 0}.${String(ns).padStart(9, '0')}`;
}

/** A 16.16 fixed-point value with six decimals. */
function shortFixed(buf: Uint8Array, at: number): string {
  const i = get16(buf, at);
  const f = Math.trunc((get16(buf, at + 2) / 65536) * 1e6);
  return `${i}.${String(f).padStart(6, '0')}`;
}

/** A control message's header (mode 6), after the leap indicator. */
function control(buf: Uint8Array, from: number, len: number, capEnd: number): string {
  if (len < 12) return ' (invalid)';
  if (from + 12 > capEnd) return ' [|ntp]';
  const c = buf[from + 1]!;
  const status = get16(buf, from + 4);
  const count = get16(buf, from + 10);
  let s = `, ${c & 0x80 ? 'Response' : 'Request'}, ${c & 0x40 ? 'Error' : 'OK'}, ${c & 0x20 ? 'More' : 'Last'}, OpCode=${c & 0x1f}\n`;
  s += `\tSequence=${get16(buf, from + 2)}, Status=${status === 0 ? '0' : '0x' + status.toString(16)}, Assoc.=${get16(buf, from + 6)}`;
  s += `, Offset=${get16(buf, from + 8)}, Count=${count}`;
  if (12 + count > len) return s + ' (invalid)';
  if (count !== 0) s += from + 12 + count > capEnd ? ' [|ntp]' : '\n\tTO-BE-DONE: data not interpreted';
  return s;
}

/** An NTP message at `buf[from, from + len)` (captured up to `capEnd`); undefined when it is cut short. */
export function formatNtp(buf: Uint8Array, from: number, len: number, capEnd: number, verbose: number): string | undefined {
  if (from + 1 > capEnd) return undefined;
  const status = buf[from]!;
  const version = (status >>> 3) & 7;
  const mode = status & 7;
  let s = `NTPv${version}, ${MODES[mode]}, length ${len}`;
  if (!verbose) return s;
  const leap = status & 0xc0;
  s += `\n\tLeap indicator: ${LEAP[leap]} (${leap})`;
  if (mode === 6) return s + control(buf, from, len, capEnd);
  if (mode > 5) return s;
  if (len < 48) return s + ' (invalid)';
  if (from + 48 > capEnd) return undefined;
  const stratum = buf[from + 1]!;
  const name = stratum === 0 ? 'unspecified' : stratum === 1 ? 'primary reference' : stratum <= 15 ? 'secondary reference' : 'reserved';
  s += `, Stratum ${stratum} (${name})`;
  const poll = (buf[from + 2]! << 24) >> 24;
  s += `, poll ${poll}`;
  if (poll > -32 && poll < 32) s += poll >= 0 ? ` (${2 ** poll}s)` : ` (1/${2 ** -poll}s)`;
  s += `, precision ${(buf[from + 3]! << 24) >> 24}`;
  s += `\n\tRoot Delay: ${shortFixed(buf, from + 4)}, Root dispersion: ${shortFixed(buf, from + 8)}, Reference-ID: `;
  const ref = from + 12;
  if (stratum === 0) s += '(unspec)';
  else if (stratum === 1) {
    for (let i = 0; i < 4; i++) {
      const c = buf[ref + i]!;
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
  } else s += `0x${get32(buf, ref).toString(16).padStart(8, '0')}`;
  s += `\n\t  Reference Timestamp:  ${ntpTime(buf, from + 16)}`;
  s += `\n\t  Originator Timestamp: ${ntpTime(buf, from + 24)}`;
  s += `\n\t  Receive Timestamp:    ${ntpTime(buf, from + 32)}`;
  s += `\n\t  Transmit Timestamp:   ${ntpTime(buf, from + 40)}`;
  s += `\n\t    Originator - Receive Timestamp:  ${ntpDelta(buf, from + 24, from + 32)}`;
  s += `\n\t    Originator - Transmit Timestamp: ${ntpDelta(buf, from + 24, from + 40)}`;
  if (len === 52 && from + 52 <= capEnd) s += `\n\tKey id: ${get32(buf, from + 48)}`;
  else if (len > 48 && len !== 68 && len !== 72) s += `\n\t(${len - 48} more bytes after the header)`;
  return s;
}
