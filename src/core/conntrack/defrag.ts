/**
 * IPv4 defragmentation for connection tracking (nf_defrag_ipv4 and
 * ip_defrag), at PREROUTING and OUTPUT, priority -400, whenever conntrack
 * is active. Fragments are queued per (source, destination, id, protocol,
 * direction and zone); when a datagram is complete it goes on as one
 * packet, and the size of its largest fragment is remembered so the
 * output path can fragment it again the same way.
 *
 * As the kernel does: a fragment overlapping one already queued discards
 * the whole datagram, an exact duplicate (or one inside a queued run) is
 * dropped alone, inconsistent last fragments discard the datagram, and a
 * queue older than net.ipv4.ipfrag_time is discarded. Not modelled: the
 * ICMP "fragment reassembly time exceeded" the kernel sends when a queue
 * of a datagram for this host times out with its first fragment (queues
 * expire lazily here), the memory thresholds, and ipfrag_max_dist.
 *
 * Queues are plain data (payloads as hex) kept in the table's `frags`, so
 * they persist with the lab.
 */
import { hexInto, toHex } from '../wire/bytes.js';
import { newSkb, type Skb } from '../path/skb.js';
import { fillIpv4Checksum } from '../wire/checksum.js';
import type { ConntrackEnv, ConntrackHook } from './env.js';
import { CT, SEC_NS, jiffyFloorNs, readSysctl } from './sysctl.js';

/** One queued fragment: its byte range in the datagram's payload and its bytes. */
interface QueuedFrag {
  offset: number;
  end: number;
  hex: string;
}

/** A datagram being reassembled (struct ipq). */
export interface FragQueue {
  /** Virtual time (ns) at which the queue is discarded. */
  expires: number;
  /** FIRST_IN (1) and LAST_IN (2) bits. */
  flags: number;
  /** Payload length known so far (q.len). */
  len: number;
  /** Payload bytes received (q.meat). */
  meat: number;
  /** Largest fragment, header included (q.max_size). */
  maxSize: number;
  /** Largest fragment with DF set (max_df_size). */
  maxDfSize: number;
  /** ECN codepoints seen, one bit each (qp->ecn). */
  ecn: number;
  /** Fragments in offset order. */
  frags: QueuedFrag[];
  /** Runs of adjacent fragments [start, end), in offset order. */
  runs: [number, number][];
  /** IP header of the first fragment (hex), once received. */
  head: string;
  /** Link header and input device of the first fragment. */
  headMac: string;
  headIndev: string;
}

const FIRST_IN = 1;
const LAST_IN = 2;

/** Largest fragment size of reassembled packets (IPCB(skb)->frag_max_size). */
const fragMax = new WeakMap<Skb, number>();

/**
 * For a packet that defragIn reassembled, the size of the largest
 * fragment it was made of (header included); 0 for any other packet.
 */
export function reassembledMaxSize(skb: Skb): number {
  return fragMax.get(skb) ?? 0;
}

/** ip_frag_ecn_table: the ECN field of the reassembled datagram, or 0xff for an invalid mix. */
function ecnOf(bits: number): number {
  const notEct = bits & 1;
  const ce = bits & 8;
  if (notEct && bits & ~1) return 0xff;
  if (ce && bits & 6) return 3;
  return 0;
}

function queues(env: ConntrackEnv): Map<string, FragQueue> {
  return env.table.frags as Map<string, FragQueue>;
}

/**
 * nf_defrag_ipv4 at PREROUTING (or OUTPUT). Returns the packet itself
 * when it is not a fragment (or is untracked), the reassembled packet when
 * this fragment completes a datagram, and null when the fragment was
 * queued or dropped (NF_STOLEN).
 */
export function defragIn(env: ConntrackEnv, skb: Skb, hook: ConntrackHook = 'PREROUTING'): Skb | null {
  if (skb.untracked) return skb;
  const data = skb.data;
  if (data.length < 20) return skb;
  const fragField = (data[6]! << 8) | data[7]!;
  if ((fragField & 0x3fff) === 0) return skb;

  const nowNs = env.nowNs();
  const all = queues(env);
  for (const [k, q] of all) if (nowNs >= q.expires) all.delete(k);

  const zone = skb.ct ? skb.ct.zone : 0;
  const ihl = (data[0]! & 0x0f) * 4;
  const key = `${data[12]}.${data[13]}.${data[14]}.${data[15]}>${data[16]}.${data[17]}.${data[18]}.${data[19]}#${(data[4]! << 8) | data[5]!}/${data[9]}${hook === 'OUTPUT' ? 'o' : 'i'}${zone}`;
  let q = all.get(key);
  if (q === undefined) {
    q = {
      expires: jiffyFloorNs(nowNs) + readSysctl(env.sysctl, CT.ipfragTime) * SEC_NS,
      flags: 0,
      len: 0,
      meat: 0,
      maxSize: 0,
      maxDfSize: 0,
      ecn: 0,
      frags: [],
      runs: [],
      head: '',
      headMac: '',
      headIndev: '',
    };
    all.set(key, q);
  }

  const offset = (fragField & 0x1fff) << 3;
  const mf = (fragField & 0x2000) !== 0;
  let end = offset + data.length - ihl;
  const discard = (): null => {
    all.delete(key);
    return null;
  };

  if (!mf) {
    if (end < q.len || (q.flags & LAST_IN && end !== q.len)) return discard();
    q.flags |= LAST_IN;
    q.len = end;
  } else {
    if (end & 7) end &= ~7;
    if (end > q.len) {
      if (q.flags & LAST_IN) return discard();
      q.len = end;
    }
  }
  if (end === offset) return discard();

  // inet_frag_queue_insert
  const runs = q.runs;
  const lastEnd = runs.length ? runs[runs.length - 1]![1] : -1;
  let runIndex = -1;
  if (runs.length === 0 || lastEnd < end) {
    if (runs.length && offset < lastEnd) return discard();
    if (runs.length && offset === lastEnd) runs[runs.length - 1]![1] = end;
    else runs.push([offset, end]);
  } else {
    for (let i = 0; i < runs.length; i++) {
      const [s, e] = runs[i]!;
      if (end <= s || offset >= e) continue;
      if (offset >= s && end <= e) return null; // duplicate: dropped, queue kept
      return discard();
    }
    runIndex = runs.findIndex((r) => r[0] >= end);
    runs.splice(runIndex < 0 ? runs.length : runIndex, 0, [offset, end]);
  }
  const frag: QueuedFrag = { offset, end, hex: toHex(data, ihl, ihl + (end - offset)) };
  const at = q.frags.findIndex((f) => f.offset > offset);
  q.frags.splice(at < 0 ? q.frags.length : at, 0, frag);

  q.meat += end - offset;
  q.ecn |= 1 << (data[1]! & 3);
  if (offset === 0) {
    q.flags |= FIRST_IN;
    q.head = toHex(data, 0, ihl);
    q.headMac = skb.mac ? toHex(skb.mac, 0, skb.mac.length) : '';
    q.headIndev = skb.indev;
  }
  const fragsize = end - offset + ihl;
  if (fragsize > q.maxSize) q.maxSize = fragsize;
  if (fragField & 0x4000 && fragsize > q.maxDfSize) q.maxDfSize = fragsize;

  if (q.flags !== (FIRST_IN | LAST_IN) || q.meat !== q.len) return null;

  // ip_frag_reasm
  all.delete(key);
  const ecn = ecnOf(q.ecn);
  if (ecn === 0xff) return null;
  const headLen = q.head.length / 2;
  const total = headLen + q.len;
  if (total > 65535) {
    env.printk(6, `IPv4: Oversized IP packet from ${data[12]}.${data[13]}.${data[14]}.${data[15]}`);
    return null;
  }
  const out = new Uint8Array(total);
  hexInto(q.head, out, 0);
  for (const f of q.frags) hexInto(f.hex, out, headLen + f.offset);
  out[2] = total >>> 8;
  out[3] = total & 0xff;
  out[1] = out[1]! | ecn;
  const df = q.maxDfSize === q.maxSize;
  out[6] = df ? 0x40 : 0;
  out[7] = 0;
  fillIpv4Checksum(out, 0);

  let mac: Uint8Array | null = null;
  if (q.headMac) {
    mac = new Uint8Array(q.headMac.length / 2);
    hexInto(q.headMac, mac, 0);
  }
  const r = newSkb(out, mac, q.headIndev);
  r.pktType = skb.pktType;
  r.mark = skb.mark;
  r.priority = skb.priority;
  r.secmark = skb.secmark;
  r.trace = skb.trace;
  r.owner = skb.owner;
  r.outdev = skb.outdev;
  fragMax.set(r, Math.max(q.maxDfSize, q.maxSize));
  return r;
}
