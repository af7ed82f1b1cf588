/**
 * DNS messages as tcpdump summarises them after "domain" ports: queries as
 * "63567+ [1au] A? example.com. (52)", responses as
 * "63567 1/0/1 A 93.184.216.34 (56)"; with -vv the authority and
 * additional sections (" ns:", " ar:") too.
 */
import { formatIPv4 } from '../addr/ipv4.js';
import { formatIPv6, ip6FromBytes } from '../addr/ipv6.js';
import { get16, get32 } from './bytes.js';
import { printableChar } from './print-text.js';

const TYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS',
  12: 'PTR', 13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25', 20: 'ISDN', 21: 'RT',
  22: 'NSAP', 23: 'NSAP_PTR', 24: 'SIG', 25: 'KEY', 26: 'PX', 27: 'GPOS', 28: 'AAAA', 29: 'LOC', 30: 'NXT',
  31: 'EID', 32: 'NIMLOC', 33: 'SRV', 34: 'ATMA', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 38: 'A6', 39: 'DNAME',
  40: 'SINK', 41: 'OPT', 42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY',
  99: 'SPF', 100: 'UINFO', 101: 'UID', 102: 'GID', 103: 'UNSPEC', 104: 'UNSPECA', 249: 'TKEY', 250: 'TSIG',
  251: 'IXFR', 252: 'AXFR', 253: 'MAILB', 254: 'MAILA', 255: 'ANY', 256: 'URI',
};
const CLASSES: Record<number, string> = { 1: 'IN', 3: 'CHAOS', 4: 'HS', 255: 'ANY' };
const OPS = ['', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7', ' op8', ' updateA', ' updateD', ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef'];
const RCODES = [
  '', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet', ' NotAuth',
  ' NotZone', ' Resp11', ' Resp12', ' Resp13', ' Resp14', ' NoChange', ' BadVers', 'Resp17', ' Resp18', ' Resp19',
  ' Resp20', 'Resp21', ' Resp22', ' BadCookie',
];
const EDNS_OPTS: Record<number, string> = {
  1: 'LLQ', 2: 'UL', 3: 'NSID', 5: 'DAU', 6: 'DHU', 7: 'N3U', 8: 'ECS', 9: 'EXPIRE', 10: 'COOKIE', 11: 'KEEPALIVE',
  12: 'PADDING', 13: 'CHAIN', 14: 'KEY-TAG', 15: 'EXTENDED-ERROR', 16: 'CLIENT-TAG', 17: 'SERVER-TAG',
};

/** Thrown when the message ends before what its counts promise. */
class Truncated extends Error {}

function typeName(t: number): string {
  return TYPES[t] ?? `Type${t}`;
}

/** A reader over one DNS message: `base` is its first byte, `end` the end of the captured bytes. */
class DnsReader {
  out = '';
  constructor(readonly buf: Uint8Array, readonly base: number, readonly end: number) {}

  need(at: number, n: number): void {
    if (at + n > this.end) throw new Truncated();
  }

  /** Skips a name at `at`; returns the index after it. */
  skipName(at: number): number {
    for (;;) {
      this.need(at, 1);
      const l = this.buf[at]!;
      if (l === 0) return at + 1;
      if ((l & 0xc0) === 0xc0) return at + 2;
      if ((l & 0xc0) !== 0) throw new Truncated();
      at += 1 + l;
    }
  }

  /**
   * Prints the name at `at` ("example.com.", "." for the root) as tcpdump's
   * fqdn_print does, and returns the index after it in place. A length byte
   * that is the last captured byte ends the name quietly (the index
   * returned is then past the capture); a label cut by the capture throws.
   */
  name(at: number): number {
    this.need(at, 1);
    let i = this.buf[at]!;
    let cur = at + 1;
    let maxOff = at - this.base;
    let compressed = false;
    let rp = (i & 0xc0) === 0xc0 ? -1 : cur + i;
    if (i === 0) {
      this.out += '.';
      return cur;
    }
    while (i && cur < this.end) {
      if ((i & 0xc0) === 0xc0) {
        if (!compressed) {
          rp = cur + 1;
          compressed = true;
        }
        this.need(cur, 1);
        const off = ((i << 8) | this.buf[cur]!) & 0x3fff;
        if (off >= maxOff) {
          this.out += '<BAD PTR>';
          throw new Truncated();
        }
        maxOff = off;
        cur = this.base + off;
        this.need(cur, 1);
        i = this.buf[cur]!;
        this.labelType(i);
        cur++;
        continue;
      }
      this.labelType(i);
      for (let k = 0; k < i; k++) {
        if (cur + k >= this.end) throw new Truncated();
        this.out += printableChar(this.buf[cur + k]!);
      }
      cur += i;
      this.out += '.';
      this.need(cur, 1);
      const next = this.buf[cur]!;
      this.labelType(next);
      cur++;
      if (!compressed) rp += ((next & 0xc0) === 0xc0 ? 1 : next) + 1;
      i = next;
    }
    // A pointer whose second byte was not captured leaves no place to go on from.
    if (rp < 0) throw new Truncated();
    return rp;
  }

  /** Refuses label types tcpdump does not read (extended and reserved ones). */
  labelType(i: number): void {
    if ((i & 0xc0) === 0x40) {
      if ((i & 0x3f) !== 0x01) this.out += `<ELT ${i & 0x3f}>`;
      throw new Truncated();
    }
    if ((i & 0xc0) === 0x80) {
      this.out += '<BAD LABEL TYPE>';
      throw new Truncated();
    }
  }

  /** One question: " A? example.com."; returns the index after it. */
  question(at: number): number {
    const after = this.skipName(at);
    this.need(after, 4);
    const type = get16(this.buf, after);
    const cls = get16(this.buf, after + 2);
    this.out += ` ${typeName(type)}`;
    if (cls !== 1) this.out += ` ${CLASSES[cls] ?? `(Class ${cls})`}`;
    this.out += '? ';
    this.name(at);
    return after + 4;
  }

  /** One resource record, as tcpdump's ns_rprint prints it; returns the index after it. */
  record(at: number, verbose: number): number {
    let p: number;
    if (verbose) {
      this.out += ' ';
      p = this.name(at);
    } else {
      try {
        p = this.skipName(at);
      } catch (e) {
        if (!(e instanceof Truncated)) throw e;
        return this.end;
      }
    }
    // A record whose fixed part was not captured ends the listing quietly, as in tcpdump.
    if (p + 10 > this.end) return this.end;
    const type = get16(this.buf, p);
    const cls = get16(this.buf, p + 2);
    if (cls !== 1 && type !== 41) this.out += ` ${CLASSES[cls] ?? `(Class ${cls})`}`;
    let optFlags = 0;
    if (type === 41) optFlags = get16(this.buf, p + 6);
    else if (verbose > 2) this.out += ` [${relTime(get32(this.buf, p + 4))}]`;
    const len = get16(this.buf, p + 8);
    const rd = p + 10;
    const next = rd + len;
    this.out += ` ${typeName(type)}`;
    if (next > this.end) throw new Truncated();
    const b = this.buf;
    switch (type) {
      case 1:
        this.need(rd, 4);
        this.out += ' ' + formatIPv4(get32(b, rd));
        break;
      case 2:
      case 5:
      case 12:
      case 39:
        this.out += ' ';
        this.name(rd);
        break;
      case 6:
        if (!verbose) break;
        {
          this.out += ' ';
          let q = this.name(rd);
          this.out += ' ';
          q = this.name(q);
          this.need(q, 20);
          for (let i = 0; i < 5; i++) this.out += ` ${get32(b, q + 4 * i)}`;
        }
        break;
      case 15:
        this.out += ' ';
        this.need(rd, 2);
        this.name(rd + 2);
        this.out += ` ${get16(b, rd)}`;
        break;
      case 16: {
        let q = rd;
        while (q < next) {
          const l = b[q]!;
          this.need(q + 1, l);
          this.out += ' "';
          for (let i = 0; i < l; i++) this.out += printableChar(b[q + 1 + i]!);
          this.out += '"';
          q += 1 + l;
        }
        break;
      }
      case 33:
        this.out += ' ';
        this.need(rd, 6);
        this.name(rd + 6);
        this.out += `:${get16(b, rd + 4)} ${get16(b, rd)} ${get16(b, rd + 2)}`;
        break;
      case 28: {
        this.need(rd, 16);
        this.out += ' ' + formatIPv6(ip6FromBytes(Array.from(b.subarray(rd, rd + 16))));
        break;
      }
      case 41:
        this.out += ` UDPsize=${cls}`;
        if (optFlags & 0x8000) this.out += ' DO';
        if (len > 0) this.ednsOptions(rd, next);
        break;
    }
    return next;
  }

  /** EDNS options of an OPT record as " [COOKIE 8bfc4fe5dea668ec]" (only the ones seen from dig are decoded). */
  ednsOptions(from: number, to: number): void {
    this.out += ' ';
    let q = from;
    let first = true;
    while (q + 4 <= to) {
      const code = get16(this.buf, q);
      const len = get16(this.buf, q + 2);
      const data = q + 4;
      if (data + len > to) break;
      this.out += (first ? '[' : ',') + (EDNS_OPTS[code] ?? `Opt${code}`);
      first = false;
      if (len > 0) {
        this.out += ' ';
        if (code === 10 && (len === 8 || (len >= 16 && len <= 40))) {
          for (let i = 0; i < 8; i++) this.out += this.buf[data + i]!.toString(16).padStart(2, '0');
          if (len > 8) {
            this.out += ' ';
            for (let i = 8; i < len; i++) this.out += this.buf[data + i]!.toString(16).padStart(2, '0');
          }
        } else {
          for (let i = 0; i < len; i++) this.out += this.buf[data + i]!.toString(16).padStart(2, '0');
        }
      }
      q = data + len;
    }
    if (!first) this.out += ']';
  }
}

/** A TTL as tcpdump's unsigned_relts_print writes it ("1h", "5m30s"). */
function relTime(secs: number): string {
  if (secs === 0) return '0s';
  const units: [number, string][] = [
    [31536000, 'y'],
    [604800, 'w'],
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  let s = '';
  for (const [n, u] of units) {
    if (secs >= n) {
      s += `${Math.floor(secs / n)}${u}`;
      secs %= n;
    }
  }
  return s;
}

/**
 * A DNS message at `buf[from, from + len)` (captured up to `capEnd`) as
 * tcpdump prints it with verbosity `verbose`, including the trailing
 * " (len)" or the truncation mark.
 */
export function formatDns(buf: Uint8Array, from: number, len: number, capEnd: number, verbose: number): string {
  if (len < 12) return `domain [length ${len} < 12] (invalid)`;
  const end = Math.min(capEnd, from + len);
  if (end - from < 12) return ' [|domain]';
  const r = new DnsReader(buf, from, end);
  const flags = get16(buf, from + 2);
  const qd = get16(buf, from + 4);
  let an = get16(buf, from + 6);
  let ns = get16(buf, from + 8);
  let ar = get16(buf, from + 10);
  const id = get16(buf, from);
  const opcode = (flags >>> 11) & 0xf;
  let rcode = flags & 0xf;
  // The extended rcode lives in an OPT record; find it like tcpdump's pre-scan does.
  try {
    let p = from + 12;
    for (let i = 0; i < qd; i++) {
      p = r.skipName(p) + 4;
      if (p >= end) throw new Truncated();
    }
    for (let i = 0; i < an + ns; i++) {
      p = r.skipName(p) + 8;
      if (p + 2 > end) throw new Truncated();
      p += 2 + get16(buf, p);
      if (p >= end) throw new Truncated();
    }
    for (let i = 0; i < ar; i++) {
      p = r.skipName(p);
      if (p + 2 > end) throw new Truncated();
      const type = get16(buf, p);
      p += 4;
      if (p + 1 > end) throw new Truncated();
      if (type === 41) {
        rcode |= buf[p]! << 4;
        break;
      }
      p += 4;
      if (p + 2 > end) throw new Truncated();
      p += 2 + get16(buf, p);
      if (p >= end) throw new Truncated();
    }
  } catch (e) {
    if (!(e instanceof Truncated)) throw e;
  }
  try {
    let p = from + 12;
    if (flags & 0x8000) {
      r.out += `${id}${OPS[opcode]}${rcode < RCODES.length ? RCODES[rcode] : ` Resp${rcode & 0xfff}`}`;
      r.out += `${flags & 0x0400 ? '*' : ''}${flags & 0x0080 ? '' : '-'}${flags & 0x0200 ? '|' : ''}${flags & 0x0020 ? '$' : ''}`;
      if (qd !== 1) r.out += ` [${qd}q]`;
      for (let i = 0; i < qd; i++) {
        if (i !== 0) r.out += ',';
        if (verbose > 1) {
          r.out += ' q:';
          p = r.question(p);
        } else {
          p = r.skipName(p) + 4;
        }
      }
      r.out += ` ${an}/${ns}/${ar}`;
      if (an) {
        p = r.record(p, verbose);
        an--;
        while (p < end && an) {
          r.out += ',';
          p = r.record(p, verbose);
          an--;
        }
      }
      if (an) throw new Truncated();
      if (verbose > 1) {
        p = section(r, p, ns, ' ns:', verbose);
        p = section(r, p, ar, ' ar:', verbose);
      }
    } else {
      r.out += `${id}${OPS[opcode]}${flags & 0x0100 ? '+' : ''}${flags & 0x0010 ? '%' : ''}`;
      if (flags & 0x6cf) r.out += ` [b2&3=0x${flags.toString(16)}]`;
      if (opcode === 1) {
        if (qd) r.out += ` [${qd}q]`;
        if (an !== 1) r.out += ` [${an}a]`;
      } else {
        if (an) r.out += ` [${an}a]`;
        if (qd !== 1) r.out += ` [${qd}q]`;
      }
      if (ns) r.out += ` [${ns}n]`;
      if (ar) r.out += ` [${ar}au]`;
      let q = qd;
      if (q) {
        p = r.question(p);
        q--;
        while (p < end && q) {
          p = r.question(p);
          q--;
        }
      }
      if (q) throw new Truncated();
      if (verbose > 1) {
        if (an) {
          p = r.record(p, verbose);
          an--;
          while (p < end && an) {
            r.out += ',';
            p = r.record(p, verbose);
            an--;
          }
        }
        if (an) throw new Truncated();
        p = section(r, p, ns, ' ns:', verbose);
        p = section(r, p, ar, ' ar:', verbose);
      }
    }
    r.out += ` (${len})`;
  } catch (e) {
    if (!(e instanceof Truncated)) throw e;
    r.out += ' [|domain]';
  }
  return r.out;
}

function section(r: DnsReader, p: number, count: number, label: string, verbose: number): number {
  if (p < r.end && count) {
    r.out += label;
    p = r.record(p, verbose);
    count--;
    while (p < r.end && count) {
      r.out += ',';
      p = r.record(p, verbose);
      count--;
    }
  }
  if (count) throw new Truncated();
  return p;
}
