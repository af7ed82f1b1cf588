/**
 * The kernel halves of the stateless matches: exact unit tests on packets
 * built byte by byte (inversions, short headers, fragments), and
 * differential runs against the real kernel: the same iptables-restore
 * rule set loaded in a private namespace and in the model, the same frames
 * sent through both, and `iptables-save -c` compared byte for byte. Each
 * frame is dispatched by its IP id to a chain of its own, so the counters
 * tell exactly which rules matched which packet, and a hotdrop shows as the
 * missing count of the chain's last rule.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { findMatch } from '../src/core/xt/registry.js';
import type { PacketContext } from '../src/core/xt/packet.js';
import { PacketType } from '../src/core/path/skb.js';
import { prepareSearch, findText } from '../src/core/xt/match/textsearch.js';
import { runClassicBpf, type BpfPacket } from '../src/core/xt/match/cbpf.js';
import {
  KernelLab,
  MAC,
  contextFor,
  frame,
  icmp,
  ip,
  ipv4,
  kernelUnavailable,
  modelKernel,
  modelNet,
  modelRuleset,
  modelRun,
  modelSave,
  perPacketRuleset,
  tcp,
  udp,
  type Frame,
} from './kernel-stateless-net.js';

/** What a rule's matches say about a packet: 'match', 'no' or 'hotdrop'. */
function evalRule(spec: string, ctx: PacketContext): 'match' | 'no' | 'hotdrop' {
  const rs = modelRuleset(`*${ctx.table}\n-A ${ctx.hook} ${spec}\nCOMMIT\n`);
  const rule = rs.tables[ctx.table]!.builtins[ctx.hook]!.rules[0]!;
  if (rule.proto !== 0 && ctx.skb.data[9] !== rule.proto) return 'no';
  for (const m of rule.matches) {
    const def = findMatch(m.name, 'ipv4');
    if (!def?.match) throw new Error(`no kernel half for ${m.name}`);
    const rt = def.runtime?.(m.info);
    if (!def.match(m.info, ctx, rt)) return ctx.hotdrop ? 'hotdrop' : 'no';
  }
  return ctx.hotdrop ? 'hotdrop' : 'match';
}

/** evalRule on a datagram arriving on d0 at raw PREROUTING. */
function on(spec: string, data: Uint8Array, opts: Parameters<typeof contextFor>[1] = {}): 'match' | 'no' | 'hotdrop' {
  return evalRule(spec, contextFor(data, opts));
}

const SYN = 0x02;
const ACK = 0x10;

describe('tcp', () => {
  const syn80 = ipv4({ proto: 6, payload: tcp({ sport: 1234, dport: 80, flags: SYN }) });
  it('ports and their inversions', () => {
    assert.equal(on('-p tcp --dport 80', syn80), 'match');
    assert.equal(on('-p tcp ! --dport 80', syn80), 'no');
    assert.equal(on('-p tcp --sport 1000:2000', syn80), 'match');
    assert.equal(on('-p tcp ! --sport 1000:2000', syn80), 'no');
    assert.equal(on('-p tcp --sport :1233', syn80), 'no');
    assert.equal(on('-p tcp ! --sport :1233', syn80), 'match');
  });
  it('"! --sport A ! --dport B" is one comparison of both ports in nf_tables: not both', () => {
    assert.equal(on('-p tcp ! --sport 1234 ! --dport 22', syn80), 'match');
    assert.equal(on('-p tcp ! --sport 1 ! --dport 80', syn80), 'match');
    assert.equal(on('-p tcp ! --sport 1234 ! --dport 80', syn80), 'no');
  });
  it('flags: --syn and --tcp-flags, inverted', () => {
    assert.equal(on('-p tcp --syn', syn80), 'match');
    assert.equal(on('-p tcp ! --syn', syn80), 'no');
    const synack = ipv4({ proto: 6, payload: tcp({ flags: SYN | ACK }) });
    assert.equal(on('-p tcp --syn', synack), 'no');
    assert.equal(on('-p tcp --tcp-flags SYN,ACK SYN,ACK', synack), 'match');
    assert.equal(on('-p tcp ! --tcp-flags ALL NONE', synack), 'match');
  });
  it('--tcp-option walks the options; a header shorter than its data offset drops', () => {
    const withMss = ipv4({ proto: 6, payload: tcp({ options: [1, 1, 2, 4, 5, 0xb4] }) });
    assert.equal(on('-p tcp --tcp-option 2', withMss), 'match');
    assert.equal(on('-p tcp ! --tcp-option 2', withMss), 'no');
    assert.equal(on('-p tcp --tcp-option 8', withMss), 'no');
    assert.equal(on('-p tcp ! --tcp-option 8', withMss), 'match');
    const cut = withMss.slice(0, withMss.length - 2);
    cut[3] = cut.length;
    assert.equal(on('-p tcp --tcp-option 8', fixIpSum(cut)), 'hotdrop');
  });
  it('a short header: the native form does not match, the xt form (-m tcp alone, --tcp-option) drops', () => {
    const short = ipv4({ proto: 6, payload: tcp({ dport: 80 }).slice(0, 10) });
    assert.equal(on('-p tcp --dport 80', short), 'match');
    assert.equal(on('-p tcp --syn', short), 'no');
    assert.equal(on('-p tcp -m tcp', short), 'hotdrop');
    assert.equal(on('-p tcp --tcp-option 2', short), 'hotdrop');
  });
  it('later fragments: the native form reads their first bytes as ports, the xt form never matches and drops offset 8', () => {
    const frag1 = ipv4({ proto: 6, frag: 1, payload: [0, 0, 0, 80, 1, 2, 3, 4] });
    const frag2 = ipv4({ proto: 6, frag: 2, payload: [0, 0, 0, 80, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    assert.equal(on('-p tcp --dport 80', frag2), 'match');
    assert.equal(on('-p tcp ! --dport 80', frag2), 'no');
    // the flags byte (offset 13) is past the end of this fragment
    assert.equal(on('-p tcp --dport 80 --syn', frag2), 'no');
    assert.equal(on('-p tcp -m tcp', frag2), 'no');
    assert.equal(on('-p tcp --dport 80 --tcp-option 2', frag2), 'no');
    assert.equal(on('-p tcp -m tcp', frag1), 'hotdrop');
    assert.equal(on('-p tcp ! --dport 22', frag1), 'match');
  });
});

describe('udp, icmp, multiport', () => {
  const dns = ipv4({ proto: 17, payload: udp(5353, 53) });
  it('udp ports; -m udp alone drops a short header', () => {
    assert.equal(on('-p udp --dport 53', dns), 'match');
    assert.equal(on('-p udp ! --dport 53', dns), 'no');
    assert.equal(on('-p udp --sport 5353 --dport 53', dns), 'match');
    const short = ipv4({ proto: 17, payload: [0x14, 0xe9, 0, 53] });
    assert.equal(on('-p udp --dport 53', short), 'match');
    assert.equal(on('-p udp -m udp', short), 'hotdrop');
  });
  it('icmp types, codes and any; the whole 8-byte header is needed', () => {
    const unreach = ipv4({ proto: 1, payload: icmp(3, 3) });
    assert.equal(on('-p icmp --icmp-type destination-unreachable', unreach), 'match');
    assert.equal(on('-p icmp --icmp-type port-unreachable', unreach), 'match');
    assert.equal(on('-p icmp --icmp-type host-unreachable', unreach), 'no');
    assert.equal(on('-p icmp ! --icmp-type echo-request', unreach), 'match');
    assert.equal(on('-p icmp ! --icmp-type any', unreach), 'no');
    const four = ipv4({ proto: 1, payload: [8, 0, 0xf7, 0xff] });
    assert.equal(on('-p icmp --icmp-type any', four), 'hotdrop');
  });
  it('multiport: the first matching slot decides, ranges take two slots', () => {
    assert.equal(on('-p udp -m multiport --dports 22,50:60,80', dns), 'match');
    assert.equal(on('-p udp -m multiport ! --dports 22,50:60,80', dns), 'no');
    assert.equal(on('-p udp -m multiport --sports 53', dns), 'no');
    assert.equal(on('-p udp -m multiport --ports 53', dns), 'match');
    const short = ipv4({ proto: 17, payload: [0, 53] });
    assert.equal(on('-p udp -m multiport --ports 53', short), 'hotdrop');
  });
});

describe('IP header matches', () => {
  const p = ipv4({ proto: 17, src: ip('192.168.1.10'), dst: ip('10.0.0.1'), ttl: 63, tos: 0xb9, payload: udp(1, 2) });
  it('iprange, length, ttl', () => {
    assert.equal(on('-m iprange --src-range 192.168.1.1-192.168.1.10', p), 'match');
    assert.equal(on('-m iprange ! --src-range 192.168.1.1-192.168.1.10', p), 'no');
    assert.equal(on('-m iprange --src-range 192.168.1.11-192.168.1.20 --dst-range 10.0.0.1-10.0.0.1', p), 'no');
    assert.equal(on(`-m length --length ${p.length}`, p), 'match');
    assert.equal(on('-m length ! --length 0:27', p), 'match');
    assert.equal(on('-m ttl --ttl-eq 63', p), 'match');
    assert.equal(on('-m ttl ! --ttl-eq 63', p), 'no');
    assert.equal(on('-m ttl --ttl-lt 63', p), 'no');
    assert.equal(on('-m ttl --ttl-gt 62', p), 'match');
  });
  it('tos, dscp and ecn read the right bits', () => {
    assert.equal(on('-m tos --tos 0xb8/0xfc', p), 'match');
    assert.equal(on('-m tos ! --tos 0xb9', p), 'no');
    assert.equal(on('-m dscp --dscp 0x2e', p), 'match');
    assert.equal(on('-m dscp --dscp-class EF', p), 'match');
    assert.equal(on('-m ecn --ecn-ip-ect 1', p), 'match');
    assert.equal(on('-m ecn ! --ecn-ip-ect 1', p), 'no');
    const ece = ipv4({ proto: 6, payload: tcp({ flags: 0x40 | SYN }) });
    assert.equal(on('-p tcp -m ecn --ecn-tcp-ece', ece), 'match');
    assert.equal(on('-p tcp -m ecn --ecn-tcp-cwr', ece), 'no');
    assert.equal(on('-p tcp -m ecn ! --ecn-tcp-cwr', ece), 'match');
    // short: no match, no drop
    assert.equal(on('-p tcp -m ecn ! --ecn-tcp-cwr', ipv4({ proto: 6, payload: [1, 2, 3] })), 'no');
  });
  it('mark (native meta mark), comment, cpu, realm', () => {
    const ctx = contextFor(p, { skb: { mark: 0x1234 } });
    assert.equal(evalRule('-m mark --mark 0x34/0xff', ctx), 'match');
    assert.equal(evalRule('-m mark ! --mark 0x1234', contextFor(p, { skb: { mark: 0x1234 } })), 'no');
    assert.equal(on('-m comment --comment hello', p), 'match');
    assert.equal(on('-m cpu --cpu 0', p), 'match');
    assert.equal(on('-m cpu ! --cpu 0', p), 'no');
    assert.equal(on('-m realm --realm 0', p, { hook: 'INPUT', table: 'filter' }), 'match');
    assert.equal(on('-m realm ! --realm 0x5/0xff', p, { hook: 'INPUT', table: 'filter' }), 'match');
  });
});

describe('link-layer and metadata matches', () => {
  const p = ipv4({ proto: 17, payload: udp(1, 2) });
  it('mac: the source address; nothing matches without an Ethernet header', () => {
    assert.equal(on('-m mac --mac-source 02:00:00:00:00:0a', p), 'match');
    assert.equal(on('-m mac ! --mac-source 02:00:00:00:00:0a', p), 'no');
    assert.equal(on('-m mac ! --mac-source 02:00:00:00:00:0a', p, { mac: null, in: 'lo' }), 'no');
  });
  it('pkttype: link classification, a local packet is unicast, looped-back multicast and broadcast', () => {
    assert.equal(on('-m pkttype --pkt-type unicast', p), 'match');
    assert.equal(on('-m pkttype --pkt-type broadcast', p, { mac: frame(p, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).mac }), 'match');
    assert.equal(on('-m pkttype --pkt-type multicast', p, { mac: frame(p, [1, 0, 0x5e, 0, 0, 1]).mac }), 'match');
    assert.equal(on('-m pkttype --pkt-type unicast', p, { mac: null, hook: 'OUTPUT' }), 'match');
    const mc = ipv4({ proto: 17, dst: ip('224.0.0.9'), payload: udp(1, 2) });
    assert.equal(on('-m pkttype --pkt-type multicast', mc, { mac: null, skb: { pktType: PacketType.LOOPBACK } }), 'match');
    assert.equal(on('-m pkttype --pkt-type broadcast', p, { mac: null, skb: { pktType: PacketType.LOOPBACK } }), 'match');
  });
  it('owner: no socket matches only fully negated options; uid and gid ranges', () => {
    const out = { mac: null, hook: 'OUTPUT' as const, table: 'filter' as const };
    assert.equal(on('-m owner --socket-exists', p, out), 'no');
    assert.equal(on('-m owner ! --socket-exists', p, out), 'match');
    assert.equal(on('-m owner ! --uid-owner 0', p, out), 'match');
    const mine = { ...out, skb: { owner: { uid: 1000, gid: 100 } } };
    assert.equal(on('-m owner --socket-exists', p, mine), 'match');
    assert.equal(on('-m owner ! --socket-exists', p, mine), 'no');
    assert.equal(on('-m owner --uid-owner 500-1500', p, mine), 'match');
    assert.equal(on('-m owner ! --uid-owner 1000', p, mine), 'no');
    assert.equal(on('-m owner --gid-owner 100 --uid-owner 1000', p, mine), 'match');
    assert.equal(on('-m owner --gid-owner 101', p, mine), 'no');
  });
  it('cgroup, socket, policy, physdev, osf with no such state on the machine', () => {
    const out = { mac: null, hook: 'OUTPUT' as const, table: 'filter' as const };
    assert.equal(on('-m cgroup --path /', p, out), 'no');
    assert.equal(on('-m cgroup ! --path /', p, { ...out, skb: { owner: { uid: 0, gid: 0 } } }), 'no');
    assert.equal(on('-m cgroup --cgroup 0', p, { ...out, skb: { owner: { uid: 0, gid: 0 } } }), 'match');
    assert.equal(on('-m socket', p), 'no');
    assert.equal(on('-m policy --dir in --pol none', p), 'match');
    assert.equal(on('-m policy --dir in --pol ipsec', p), 'no');
    assert.equal(on('-m physdev --physdev-is-in', p), 'no');
    assert.equal(on('-m physdev ! --physdev-is-in ! --physdev-in eth0', p), 'match');
    assert.equal(on('-m physdev ! --physdev-is-in --physdev-in eth0', p), 'no');
    assert.equal(on('-p tcp -m osf --genre Linux', ipv4({ proto: 6, payload: tcp({}) })), 'no');
    assert.equal(on('-p tcp -m osf ! --genre Linux', ipv4({ proto: 6, payload: tcp({}) })), 'no');
  });
  it('addrtype, rpfilter and devgroup use the machine network', () => {
    const net = modelNet();
    const k = modelKernel(net);
    const local = ipv4({ proto: 17, src: ip('10.0.0.2'), dst: ip('10.0.0.1'), payload: udp(1, 2) });
    const bcast = ipv4({ proto: 17, src: ip('10.0.0.2'), dst: ip('10.0.0.255'), payload: udp(1, 2) });
    const far = ipv4({ proto: 17, src: ip('8.8.8.8'), dst: ip('0.0.0.0'), payload: udp(1, 2) });
    // only 0.0.0.0 itself is the zero network now; 0.1.2.3 goes by its route
    const zeroNet = ipv4({ proto: 17, src: ip('8.8.8.8'), dst: ip('0.1.2.3'), payload: udp(1, 2) });
    assert.equal(on('-m addrtype --dst-type UNICAST', zeroNet, { kernel: k }), 'match');
    assert.equal(on('-m addrtype --dst-type LOCAL', local, { kernel: k }), 'match');
    assert.equal(on('-m addrtype --dst-type LOCAL --limit-iface-in', local, { kernel: k, in: 'd1' }), 'no');
    assert.equal(on('-m addrtype --dst-type BROADCAST', bcast, { kernel: k }), 'match');
    assert.equal(on('-m addrtype --src-type UNICAST --dst-type BROADCAST', far, { kernel: k }), 'match');
    assert.equal(on('-m addrtype ! --src-type UNICAST', far, { kernel: k }), 'no');
    assert.equal(on('-m rpfilter', local, { kernel: k }), 'match');
    assert.equal(on('-m rpfilter', far, { kernel: k }), 'no');
    assert.equal(on('-m rpfilter --loose', far, { kernel: k }), 'match');
    assert.equal(on('-m rpfilter --invert', far, { kernel: k }), 'match');
    assert.equal(on('-m rpfilter', local, { kernel: k, in: 'lo', mac: null }), 'match');
    assert.equal(on('-m devgroup --src-group 0', local, { kernel: k }), 'match');
    assert.equal(on('-m devgroup ! --src-group 0', local, { kernel: k }), 'no');
  });
});

describe('payload matches', () => {
  it('u32: locations, @, ranges; an out-of-packet read is a plain mismatch', () => {
    const p = ipv4({ proto: 6, payload: tcp({ sport: 1234, dport: 80 }) });
    assert.equal(on('-m u32 --u32 "0>>22&0x3C@0>>16=1234"', p), 'match');
    assert.equal(on('-m u32 --u32 "0>>22&0x3C@0&0xFFFF=79:81"', p), 'match');
    assert.equal(on('-m u32 --u32 "6&0xFF=17"', p), 'no');
    assert.equal(on('-m u32 --u32 "6&0xFF=6 && 0>>22&0x3C@12>>26&0x3C@0=0"', p), 'no');
    assert.equal(on('-m u32 ! --u32 "1000=0"', p), 'match');
    assert.equal(on('-m u32 --u32 "1000=0"', p), 'no');
  });
  it('string: bm and kmp, --from/--to, --icase, hex', () => {
    const p = ipv4({ proto: 17, payload: udp(1, 2, [...Buffer.from('GET /Index.html HTTP/1.1')]) });
    assert.equal(on('-m string --algo bm --string Index', p), 'match');
    assert.equal(on('-m string --algo kmp --string index', p), 'no');
    assert.equal(on('-m string --algo kmp --string index --icase', p), 'match');
    assert.equal(on('-m string --algo bm --string index --icase', p), 'match');
    assert.equal(on('-m string --algo bm ! --string Index', p), 'no');
    assert.equal(on('-m string --algo bm --hex-string "|2f49|ndex"', p), 'match');
    // "Index" starts at 28+5=33 and ends at 38
    assert.equal(on('-m string --algo bm --string Index --from 33 --to 38', p), 'match');
    assert.equal(on('-m string --algo bm --string Index --from 34', p), 'no');
    assert.equal(on('-m string --algo kmp --string Index --to 37', p), 'no');
  });
  it('string search helpers: Latin-1 case folding, first occurrence decides --to', () => {
    const text = Uint8Array.from([0x41, 0xe9, 0x62, 0x41, 0xc9, 0x42]);
    for (const algo of ['bm', 'kmp']) {
      const s = prepareSearch(algo, [0xc9, 0x42], true)!;
      assert.equal(s.find(text, 0, text.length), 1, algo);
      assert.equal(findText(s, text, 0, 3), true, algo);
      assert.equal(findText(s, text, 2, 6), true, algo);
      assert.equal(findText(s, text, 2, 5), false, algo);
    }
  });
  it('string with fsm: the tokens must account for the data to its end', () => {
    // HEAD_IGNORE wildcard, then "AB", then ANY wildcard
    const tok = (type: number, recur: number, value: number) => [type, 0, recur, value];
    const pat = [...tok(1, 4, 0), ...tok(0, 0, 0x41), ...tok(0, 0, 0x42), ...tok(1, 2, 0)];
    const s = prepareSearch('fsm', pat, false)!;
    assert.equal(s.find(Uint8Array.from([0x30, 0x41, 0x42, 0x31]), 0, 4), 1);
    // after a mismatch the naive machine starts over past the failing byte: "0AAB1" is not found
    assert.equal(s.find(Uint8Array.from([0x30, 0x41, 0x41, 0x42, 0x31]), 0, 5), -1);
    const strict = prepareSearch('fsm', [...tok(0, 0, 0x41), ...tok(0, 0, 0x42)], false)!;
    assert.equal(strict.find(Uint8Array.from([0x41, 0x42]), 0, 2), 0);
    assert.equal(strict.find(Uint8Array.from([0x41, 0x42, 0x43]), 0, 3), -1);
  });
  it('tcpmss reads SYN options; options cut short drop the packet', () => {
    const p = ipv4({ proto: 6, payload: tcp({ options: [2, 4, 0x05, 0xb4] }) });
    assert.equal(on('-p tcp -m tcpmss --mss 1460', p), 'match');
    assert.equal(on('-p tcp -m tcpmss ! --mss 1000:1459', p), 'match');
    assert.equal(on('-p tcp -m tcpmss --mss 536', ipv4({ proto: 6, payload: tcp({}) })), 'no');
    assert.equal(on('-p tcp -m tcpmss ! --mss 536', ipv4({ proto: 6, payload: tcp({}) })), 'match');
    const cut = ipv4({ proto: 6, payload: tcp({ options: [2, 4, 0x05, 0xb4] }).slice(0, 22) });
    assert.equal(on('-p tcp -m tcpmss --mss 1460', cut), 'hotdrop');
  });
  it('ah and esp SPIs', () => {
    const esp = ipv4({ proto: 50, payload: [0, 0, 1, 0, 0, 0, 0, 1] });
    assert.equal(on('-p esp -m esp --espspi 256', esp), 'match');
    assert.equal(on('-p esp -m esp ! --espspi 200:300', esp), 'no');
    assert.equal(on('-p esp -m esp --espspi 256', ipv4({ proto: 50, payload: [0, 0, 1, 0] })), 'hotdrop');
    const ah = ipv4({ proto: 51, payload: [6, 4, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1] });
    assert.equal(on('-p ah -m ah --ahspi 7', ah), 'match');
    assert.equal(on('-p ah -m ah --ahspi 7', ipv4({ proto: 51, payload: [6, 4, 0, 0, 0, 0, 0, 7] })), 'hotdrop');
  });
  it('sctp chunks and dccp types and options', () => {
    const chunk = (type: number, flags: number, len: number) => [type, flags, 0, len, ...new Array(((len + 3) & ~3) - 4).fill(0)];
    const sctp = ipv4({ proto: 132, payload: [0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, ...chunk(0, 0x03, 16), ...chunk(3, 0, 12)] });
    assert.equal(on('-p sctp --chunk-types any DATA', sctp), 'match');
    assert.equal(on('-p sctp --chunk-types all DATA,SACK', sctp), 'match');
    assert.equal(on('-p sctp --chunk-types all DATA,SACK,INIT', sctp), 'no');
    assert.equal(on('-p sctp --chunk-types only DATA', sctp), 'no');
    assert.equal(on('-p sctp --chunk-types any DATA:B', sctp), 'match');
    assert.equal(on('-p sctp --chunk-types any DATA:b', sctp), 'no');
    assert.equal(on('-p sctp ! --chunk-types any INIT --dport 2', sctp), 'match');
    const zero = ipv4({ proto: 132, payload: [0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    assert.equal(on('-p sctp --chunk-types any INIT', zero), 'hotdrop');
    assert.equal(on('-p sctp --dport 2', zero), 'match');
    // DCCP REQUEST (type 0): 12 + 4 bytes of header, then options
    const dccp = ipv4({ proto: 33, payload: [0, 1, 0, 2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 32, 2] });
    assert.equal(on('-p dccp --dccp-types REQUEST', dccp), 'match');
    assert.equal(on('-p dccp ! --dccp-types REQUEST,RESPONSE', dccp), 'no');
    assert.equal(on('-p dccp --dccp-option 32', dccp), 'match');
    assert.equal(on('-p dccp --dccp-option 33', dccp), 'no');
  });
  it('bpf runs the classic program on the datagram', () => {
    const p = ipv4({ proto: 6, payload: tcp({ dport: 22 }) });
    // ldb [9]; jeq #6 jt 0 jf 3; ldxb 4*([0]&0xf); ldh [x+2]; jeq #22 ret 1 else ret 0
    const prog = '7,48 0 0 9,21 0 4 6,177 0 0 0,72 0 0 2,21 0 1 22,6 0 0 1,6 0 0 0';
    assert.equal(on(`-m bpf --bytecode "${prog}"`, p), 'match');
    assert.equal(on(`-m bpf --bytecode "${prog}"`, ipv4({ proto: 6, payload: tcp({ dport: 23 }) })), 'no');
  });
  it('classic BPF: loads past the end and division by a zero X return 0; ancillary data', () => {
    const pkt: BpfPacket = {
      data: ipv4({ proto: 17, payload: udp(1, 2) }),
      mac: Uint8Array.from([...MAC.d0, ...MAC.s0, 8, 0]),
      protocol: 0x0800,
      pktType: 0,
      ifindex: 3,
      hatype: 1,
      mark: 7,
      random: () => 9,
    };
    const run = (insns: [number, number, number, number][]) => runClassicBpf(insns.map(([code, jt, jf, k]) => ({ code, jt, jf, k })), pkt);
    assert.equal(run([[0x20, 0, 0, 1000], [0x06, 0, 0, 1]]), 0);
    assert.equal(run([[0x00, 0, 0, 5], [0x3c, 0, 0, 0], [0x06, 0, 0, 1]]), 0);
    assert.equal(run([[0x28, 0, 0, (0xfffff000 + 0) >>> 0], [0x16, 0, 0, 0]]), 0x0800);
    assert.equal(run([[0x20, 0, 0, (0xfffff000 + 20) >>> 0], [0x16, 0, 0, 0]]), 7);
    assert.equal(run([[0x20, 0, 0, (0xfffff000 + 8) >>> 0], [0x16, 0, 0, 0]]), 3);
    // link-layer offset: the source MAC's last byte
    assert.equal(run([[0x30, 0, 0, (0xffe00000 + 11) >>> 0], [0x16, 0, 0, 0]]), 0x0a);
    assert.equal(run([[0x80, 0, 0, 0], [0x16, 0, 0, 0]]), pkt.data.length);
  });
});

// ---------------------------------------------------------------------------
// The real kernel

const unavailable = kernelUnavailable();

/** Packets sent per differential batch. */
const BATCH = 160;

/** A datagram with IP id `id` (the dispatch key) and the given header fields. */
function withId(data: Uint8Array, id: number): Uint8Array {
  const d = data.slice();
  d[4] = id >> 8;
  d[5] = id & 0xff;
  return fixIpSum(d);
}

/** Recomputes the IPv4 header checksum in place. */
function fixIpSum(d: Uint8Array): Uint8Array {
  d[10] = 0;
  d[11] = 0;
  const hl = (d[0]! & 0x0f) * 4;
  let s = 0;
  for (let i = 0; i < hl; i += 2) s += (d[i]! << 8) | d[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  d[10] = (~s >> 8) & 0xff;
  d[11] = ~s & 0xff;
  return d;
}

/**
 * Loads `rules` (one chain per packet) in the lab and the model, sends the
 * datagrams, and compares `iptables-save -c -t raw` of both. On a
 * difference, names the first packet whose chain differs.
 */
function differential(
  lab: KernelLab,
  rules: readonly string[],
  datagrams: readonly Uint8Array[],
  macs?: readonly (readonly number[])[],
  table: 'raw' | 'mangle' = 'raw',
  prepare?: (ctx: PacketContext) => void,
): void {
  const frames: Frame[] = datagrams.map((d, i) => frame(withId(d, i + 1), macs?.[i]));
  const text = perPacketRuleset(frames.length, rules, table);
  lab.restore(process.env['KS_DEBUG'] ? text.replace('COMMIT', '-A PREROUTING -j LOG --log-prefix "XTRA "\nCOMMIT') : text);
  lab.send(frames);
  // the other chains count the machine's own answers (resets, ICMP errors), which the model does not make here
  const dropOutput = (t: string) => t.replace(/^:(OUTPUT|INPUT|FORWARD|POSTROUTING) .*\n/gm, '');
  const real = dropOutput(lab.save(table));
  const rs = modelRuleset(text);
  modelRun(rs, table, 'PREROUTING', frames, modelKernel(modelNet()), prepare);
  const model = dropOutput(modelSave(rs, table));
  if (real === model) return;
  const chainOf = (line: string) => / -A (P\d+)/.exec(line)?.[1];
  const realLines = real.split('\n');
  const modelLines = model.split('\n');
  for (let i = 0; i < Math.max(realLines.length, modelLines.length); i++) {
    if (realLines[i] === modelLines[i]) continue;
    const chain = chainOf(realLines[i] ?? '') ?? chainOf(modelLines[i] ?? '');
    const n = chain ? Number(chain.slice(1)) : -1;
    const pkt = n >= 0 ? Buffer.from(frames[n]!.data).toString('hex') : '';
    assert.fail(`kernel and model differ at line ${i + 1}:\n  kernel: ${realLines[i]}\n  model:  ${modelLines[i]}\n  packet: ${pkt}`);
  }
}

/** fast-check values drawn from a fixed seed, so a failure reproduces. */
function draw<T>(arb: fc.Arbitrary<T>, seed: number): T {
  return fc.sample(arb, { seed, numRuns: 1 })[0]!;
}

const port = fc.oneof(fc.constantFrom(0, 1, 22, 53, 80, 443, 1023, 1024, 8080, 65535), fc.integer({ min: 0, max: 65535 }));
const portSpec = fc.oneof(
  port.map(String),
  fc.tuple(port, port).map(([a, b]) => `${Math.min(a, b)}:${Math.max(a, b)}`),
  port.map((p) => `:${p}`),
  port.map((p) => `${p}:`),
);
const maybeNot = fc.boolean().map((b) => (b ? '! ' : ''));
const flagNames = fc.subarray(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG']).map((a) => (a.length ? a.join(',') : 'NONE'));

/** Truncates a transport header at a random point, sometimes. */
function cut(payload: Uint8Array, keep: number | null): Uint8Array {
  return keep === null ? payload : payload.slice(0, Math.min(keep, payload.length));
}

/** A fragment field: mostly 0, sometimes a first fragment, offset 1 (8 bytes), or a later one. */
const fragField = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(0x2000) },
  { weight: 1, arbitrary: fc.constant(1) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 0x1fff }) },
);
const truncation = fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 24 }) });

const tcpPacket = fc
  .record({
    sport: port,
    dport: port,
    flags: fc.integer({ min: 0, max: 255 }),
    options: fc.oneof(fc.constant([] as number[]), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }), fc.constant<number[]>([1, 1, 2, 4, 5, 0xb4, 3, 3, 7, 0])),
    frag: fragField,
    keep: truncation,
  })
  .map((r) => ipv4({ proto: 6, frag: r.frag, payload: cut(tcp({ sport: r.sport, dport: r.dport, flags: r.flags, options: r.options }), r.keep) }));

const tcpRule = fc
  .record({
    sport: fc.option(fc.tuple(maybeNot, portSpec)),
    dport: fc.option(fc.tuple(maybeNot, portSpec)),
    flags: fc.option(fc.oneof(maybeNot.map((n) => `${n}--syn`), fc.tuple(maybeNot, flagNames, flagNames).map(([n, m, c]) => `${n}--tcp-flags ${m} ${c}`))),
    option: fc.option(fc.tuple(maybeNot, fc.constantFrom(1, 2, 3, 4, 8, 19, 200))),
  })
  .map((r) => {
    let s = '-p tcp -m tcp';
    if (r.sport) s += ` ${r.sport[0]}--sport ${r.sport[1]}`;
    if (r.dport) s += ` ${r.dport[0]}--dport ${r.dport[1]}`;
    if (r.flags) s += ` ${r.flags}`;
    if (r.option) s += ` ${r.option[0]}--tcp-option ${r.option[1]}`;
    return s;
  });

const udpPacket = fc
  .record({ sport: port, dport: port, frag: fragField, keep: truncation })
  .map((r) => ipv4({ proto: 17, frag: r.frag, payload: cut(udp(r.sport, r.dport), r.keep) }));

const udpRule = fc
  .record({ sport: fc.option(fc.tuple(maybeNot, portSpec)), dport: fc.option(fc.tuple(maybeNot, portSpec)) })
  .map((r) => {
    let s = '-p udp -m udp';
    if (r.sport) s += ` ${r.sport[0]}--sport ${r.sport[1]}`;
    if (r.dport) s += ` ${r.dport[0]}--dport ${r.dport[1]}`;
    return s;
  });

const icmpPacket = fc
  .record({
    type: fc.oneof(fc.constantFrom(0, 3, 5, 8, 11, 12, 13), fc.integer({ min: 0, max: 255 })),
    code: fc.oneof(fc.constantFrom(0, 1, 3, 4), fc.integer({ min: 0, max: 255 })),
    frag: fragField,
    keep: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 8 }) }),
  })
  .map((r) => ipv4({ proto: 1, frag: r.frag, payload: cut(icmp(r.type, r.code), r.keep) }));

const icmpRule = fc
  .tuple(
    maybeNot,
    fc.oneof(
      fc.constantFrom('any', 'echo-request', 'echo-reply', 'destination-unreachable', 'port-unreachable', 'redirect', 'time-exceeded', 'ttl-zero-during-reassembly'),
      fc.integer({ min: 0, max: 255 }).map(String),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([t, c]) => `${t}/${c}`),
    ),
  )
  .map(([n, t]) => `-p icmp -m icmp ${n}--icmp-type ${t}`);

const multiportRule = fc
  .record({
    proto: fc.constantFrom('tcp', 'udp'),
    kind: fc.constantFrom('--sports', '--dports', '--ports'),
    not: maybeNot,
    items: fc.array(fc.oneof(port.map(String), fc.tuple(port, port).filter(([a, b]) => a !== b).map(([a, b]) => `${Math.min(a, b)}:${Math.max(a, b)}`)), {
      minLength: 1,
      maxLength: 7,
    }),
  })
  .map((r) => `-p ${r.proto} -m multiport ${r.not}${r.kind} ${r.items.join(',')}`);

const addr = fc.oneof(
  fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.255', '192.168.1.1', '192.168.1.255', '0.0.0.0', '255.255.255.255', '224.0.0.1', '127.0.0.1'),
  fc.integer({ min: 0, max: 0xffffffff }).map((n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')),
);
const range = fc.tuple(addr, addr).map(([a, b]) => (ip(a) <= ip(b) ? `${a}-${b}` : `${b}-${a}`));
const iprangeRule = fc
  .record({ src: fc.option(fc.tuple(maybeNot, range)), dst: fc.option(fc.tuple(maybeNot, range)) })
  .filter((r) => r.src !== null || r.dst !== null)
  .map((r) => `-m iprange${r.src ? ` ${r.src[0]}--src-range ${r.src[1]}` : ''}${r.dst ? ` ${r.dst[0]}--dst-range ${r.dst[1]}` : ''}`);

/**
 * Sources: any address but this subnet's broadcast, which would make the
 * machine send an ICMP error to its own broadcast address (and receive it).
 */
const srcAddr = addr.filter((a) => a !== '10.0.0.255');

/** Any protocol, any addresses, any TOS and TTL, a few bytes of payload. */
const ipPacket = fc
  .record({
    proto: fc.constantFrom(1, 6, 17, 47, 50),
    src: srcAddr,
    dst: addr,
    ttl: fc.oneof(fc.constantFrom(0, 1, 63, 64, 128, 255), fc.integer({ min: 0, max: 255 })),
    tos: fc.integer({ min: 0, max: 255 }),
    len: fc.integer({ min: 0, max: 60 }),
  })
  .map((r) => ipv4({ proto: r.proto, src: ip(r.src), dst: ip(r.dst), ttl: r.ttl, tos: r.tos, payload: new Uint8Array(r.len).fill(0x5a) }));

const ipHeaderRule = fc.oneof(
  fc.tuple(maybeNot, fc.integer({ min: 20, max: 80 }), fc.integer({ min: 20, max: 80 })).map(([n, a, b]) => `-m length ${n}--length ${Math.min(a, b)}:${Math.max(a, b)}`),
  fc.tuple(maybeNot, fc.integer({ min: 0, max: 90 })).map(([n, a]) => `-m length ${n}--length ${a}`),
  fc.tuple(fc.constantFrom('--ttl-eq', '! --ttl-eq', '--ttl-lt', '--ttl-gt'), fc.integer({ min: 0, max: 255 })).map(([o, t]) => `-m ttl ${o} ${t}`),
  fc.tuple(maybeNot, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([n, v, m]) => `-m tos ${n}--tos 0x${(v & m).toString(16)}/0x${m.toString(16)}`),
  fc.tuple(maybeNot, fc.constantFrom('Minimize-Delay', 'Maximize-Throughput', 'Normal-Service', '0x10')).map(([n, t]) => `-m tos ${n}--tos ${t}`),
  fc.tuple(maybeNot, fc.integer({ min: 0, max: 63 })).map(([n, v]) => `-m dscp ${n}--dscp ${v}`),
  fc.tuple(maybeNot, fc.integer({ min: 0, max: 3 })).map(([n, v]) => `-m ecn ${n}--ecn-ip-ect ${v}`),
);

describe('against the real kernel', { skip: unavailable }, () => {
  let lab: KernelLab;
  before(() => {
    lab = KernelLab.create({ receiver: true });
    // the receiver must not answer what reaches it (its replies would come back through D)
    lab.ns(lab.r!, ['iptables', '-P', 'INPUT', 'DROP']);
    lab.ns(lab.r!, ['iptables', '-P', 'OUTPUT', 'DROP']);
  });
  after(() => lab?.destroy());

  it('tcp: random rules on random segments, fragments and short headers', () => {
    for (const seed of [1, 2]) differential(lab, draw(fc.array(tcpRule, { minLength: 8, maxLength: 8 }), seed), draw(fc.array(tcpPacket, { minLength: BATCH, maxLength: BATCH }), seed));
  });
  it('udp: random rules on random datagrams', () => {
    differential(lab, draw(fc.array(udpRule, { minLength: 8, maxLength: 8 }), 3), draw(fc.array(udpPacket, { minLength: BATCH, maxLength: BATCH }), 3));
  });
  it('icmp: random types and codes', () => {
    differential(lab, draw(fc.array(icmpRule, { minLength: 8, maxLength: 8 }), 4), draw(fc.array(icmpPacket, { minLength: BATCH, maxLength: BATCH }), 4));
  });
  it('multiport: random port lists on tcp and udp', () => {
    const pkts = draw(fc.array(fc.oneof(tcpPacket, udpPacket), { minLength: BATCH, maxLength: BATCH }), 5);
    differential(lab, draw(fc.array(multiportRule, { minLength: 8, maxLength: 8 }), 5), pkts);
  });
  it('iprange: random ranges on random addresses', () => {
    differential(lab, draw(fc.array(iprangeRule, { minLength: 8, maxLength: 8 }), 6), draw(fc.array(ipPacket, { minLength: BATCH, maxLength: BATCH }), 6));
  });
  it('length, ttl, tos, dscp, ecn: random header values', () => {
    differential(lab, draw(fc.array(ipHeaderRule, { minLength: 10, maxLength: 10 }), 7), draw(fc.array(ipPacket, { minLength: BATCH, maxLength: BATCH }), 7));
  });
  it('sctp, dccp, ah, esp: random headers, chunks and options', () => {
    const rules = [
      ...draw(fc.array(sctpRule, { minLength: 8, maxLength: 8 }), 8),
      ...draw(fc.array(dccpRule, { minLength: 6, maxLength: 6 }), 8),
      '-p esp -m esp --espspi 256:300',
      '-p esp -m esp ! --espspi 256',
      '-p ah -m ah --ahspi 7',
      '-p ah -m ah ! --ahspi 1:7',
    ];
    differential(lab, rules, draw(fc.array(fc.oneof(sctpPacket, dccpPacket, spiPacket), { minLength: BATCH, maxLength: BATCH }), 8));
  });
  it('u32, string (bm, kmp, --icase, --from, --to), tcpmss, ecn and bpf on random payloads', () => {
    const rules = [
      '-m u32 --u32 "0>>22&0x3C@0>>16=1:1024"',
      '-m u32 ! --u32 "6&0xFF=6 && 0>>22&0x3C@12>>26&0x3C@0=0x474554:0x47455420"',
      '-m u32 --u32 "0>>22&0x3C@4=0:0x7fffffff,0xfffffff0:0xffffffff"',
      '-m u32 --u32 "30=0x41414141"',
      '-m u32 --u32 "0>>22&0x3C@0>>8@0=0:0xffffffff"',
      '-m string --algo bm --string GET',
      '-m string --algo kmp --string get --icase',
      '-m string --algo bm --string host --icase',
      '-m string --algo bm --hex-string "|c9|t"  --icase',
      '-m string --algo kmp --string Host --from 30 --to 45',
      '-m string --algo bm ! --string AA --to 34',
      '-m string --algo bm --string abcabd',
      '-p tcp -m tcpmss --mss 1000:1460',
      '-p tcp -m tcpmss ! --mss 536',
      '-p tcp -m ecn --ecn-tcp-ece ! --ecn-tcp-cwr',
      '-m ecn --ecn-ip-ect 3',
      '-m bpf --bytecode "7,48 0 0 9,21 0 4 6,177 0 0 0,72 0 0 2,21 0 1 80,6 0 0 1,6 0 0 0"',
      '-m bpf --bytecode "4,128 0 0 0,37 0 1 60,6 0 0 65535,6 0 0 0"',
      '-m bpf --bytecode "3,48 0 0 200,6 0 0 1,6 0 0 0"',
      '-m bpf --bytecode "5,177 0 0 0,80 0 0 13,69 0 1 2,6 0 0 1,6 0 0 0"',
      '-m bpf --bytecode "4,40 0 0 4294963200,21 0 1 2048,6 0 0 1,6 0 0 0"',
      // fsm tokens: ignore any head, then "G", then anything
      '-m string --algo fsm --hex-string "|010004000000004701000200|"',
      // fsm tokens: "AA" exactly, as the whole searched text from offset 30 on
      '-m string --algo fsm --hex-string "|0000004100000041|" --from 30',
    ];
    differential(lab, rules, draw(fc.array(fc.oneof(tcpPacket, textPacket, tcpmssPacket), { minLength: BATCH, maxLength: BATCH }), 9));
  });
  it('pkttype, mac, addrtype, rpfilter, devgroup and the matches with no state to see', () => {
    const rules = [
      '-m pkttype --pkt-type unicast',
      '-m pkttype ! --pkt-type broadcast',
      '-m pkttype --pkt-type multicast',
      '-m mac --mac-source 02:00:00:00:00:0a',
      '-m mac ! --mac-source 02:00:00:00:00:0b',
      '-m addrtype --src-type UNICAST',
      '-m addrtype --dst-type LOCAL',
      '-m addrtype ! --dst-type LOCAL,BROADCAST',
      '-m addrtype --dst-type BROADCAST,MULTICAST --limit-iface-in',
      '-m addrtype --src-type LOCAL --limit-iface-in',
      '-m addrtype --dst-type UNICAST --limit-iface-in',
      '-m rpfilter',
      '-m rpfilter --loose',
      '-m rpfilter --accept-local',
      '-m rpfilter --invert --validmark',
      '-m devgroup --src-group 0',
      '-m devgroup ! --src-group 0x1/0x1',
      '-m physdev ! --physdev-is-in',
      '-m physdev --physdev-in d0',
      '-m policy --dir in --pol none',
      '-m policy --dir in --pol ipsec --strict --proto esp',
      '-m comment --comment "a comment"',
      '-m cpu --cpu 0',
      '-m cpu ! --cpu 1',
      '-p tcp -m osf --genre Linux',
      '-p tcp -m osf ! --genre Windows --ttl 2',
      '-m iprange --src-range 10.0.0.0-10.0.0.255',
      // classic BPF ancillary data: packet type is broadcast, hardware type is Ethernet, source MAC starts with 02
      '-m bpf --bytecode "4,32 0 0 4294963204,21 0 1 1,6 0 0 1,6 0 0 0"',
      '-m bpf --bytecode "4,32 0 0 4294963228,21 0 1 1,6 0 0 1,6 0 0 0"',
      '-m bpf --bytecode "4,48 0 0 4292870150,21 0 1 2,6 0 0 1,6 0 0 0"',
    ];
    const macs = [MAC.d0, MAC.d0, MAC.d0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01], [0x33, 0x33, 0, 0, 0, 1]] as const;
    const pkts = draw(fc.array(fc.tuple(ipPacket, fc.constantFrom(...macs)), { minLength: BATCH, maxLength: BATCH }), 10);
    differential(
      lab,
      rules,
      pkts.map(([p]) => p),
      pkts.map(([, m]) => m),
    );
  });
  it('cluster: the hash of the connection\'s original source picks the node', () => {
    const rules = [
      '-m cluster --cluster-total-nodes 2 --cluster-local-node 1 --cluster-hash-seed 0xdeadbeef',
      '-m cluster --cluster-total-nodes 5 ! --cluster-local-nodemask 0x5 --cluster-hash-seed 0x1',
      '-m cluster --cluster-total-nodes 32 --cluster-local-nodemask 0x1f --cluster-hash-seed 0x12345678',
      '-m cluster --cluster-total-nodes 32 --cluster-local-node 32 --cluster-hash-seed 0x9',
    ];
    // distinct UDP flows: each packet starts a connection of its own, from its source address
    const pkts = draw(fc.array(fc.tuple(fc.integer({ min: 1, max: 0xdfffffff }), fc.integer({ min: 1, max: 65535 })), { minLength: 100, maxLength: 100 }), 12).map(
      ([src, sp], i) => ipv4({ proto: 17, src, dst: ip('10.0.0.1'), payload: udp(sp, 1000 + i, [], src, ip('10.0.0.1')) }),
    );
    differential(lab, rules, pkts, undefined, 'mangle', (ctx) => {
      const d = ctx.skb.data;
      const src = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
      const tuple = { src, dst: ip('10.0.0.1'), proto: 17, sport: 0, dport: 0 };
      ctx.skb.ct = { orig: tuple, reply: tuple, master: 0 } as never;
    });
  });
  it('socket: no socket is ever found (the rule also turns on reassembly, so no fragments here)', () => {
    const rules = ['-m socket', '-m socket --nowildcard', '-m socket --transparent --restore-skmark'];
    const pkts = draw(fc.array(fc.oneof(tcpPacket, udpPacket), { minLength: 60, maxLength: 60 }), 11).map((p) => {
      const d = p.slice();
      d[6] = 0;
      d[7] = 0;
      return d;
    });
    differential(lab, rules, pkts);
  });
});

const sctpChunk = fc
  .record({
    type: fc.constantFrom(0, 1, 2, 3, 6, 7, 10, 14, 64, 130, 192, 200),
    flags: fc.integer({ min: 0, max: 255 }),
    len: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 4, max: 24 }) }, { weight: 1, arbitrary: fc.constant(0) }),
  })
  .map((c) => [c.type, c.flags, 0, c.len, ...new Array(Math.max(0, ((c.len + 3) & ~3) - 4)).fill(0x11)]);

const sctpPacket = fc
  .record({ sport: port, dport: port, chunks: fc.array(sctpChunk, { minLength: 0, maxLength: 4 }), frag: fragField, keep: truncation })
  .map((r) => {
    const body = [r.sport >> 8, r.sport & 255, r.dport >> 8, r.dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, ...r.chunks.flat()];
    return ipv4({ proto: 132, frag: r.frag, payload: cut(Uint8Array.from(body), r.keep) });
  });

const chunkNames = fc.subarray(['DATA', 'INIT', 'INIT_ACK', 'SACK', 'ABORT', 'SHUTDOWN', 'COOKIE_ECHO', 'SHUTDOWN_COMPLETE', 'I_DATA', 'RE_CONFIG', 'FORWARD_TSN'], {
  minLength: 1,
  maxLength: 4,
});
const sctpRule = fc
  .record({
    sport: fc.option(fc.tuple(maybeNot, portSpec)),
    dport: fc.option(fc.tuple(maybeNot, portSpec)),
    chunks: fc.option(
      fc.tuple(
        maybeNot,
        fc.constantFrom('any', 'all', 'only'),
        fc.oneof(
          chunkNames.map((a) => a.join(',')),
          fc.constantFrom('DATA:B', 'DATA:ie', 'ABORT:T', 'SHUTDOWN_COMPLETE:t,DATA', 'NONE', 'ALL'),
        ),
      ),
    ),
  })
  .filter((r) => r.sport !== null || r.dport !== null || r.chunks !== null)
  .map((r) => {
    let s = '-p sctp -m sctp';
    if (r.sport) s += ` ${r.sport[0]}--sport ${r.sport[1]}`;
    if (r.dport) s += ` ${r.dport[0]}--dport ${r.dport[1]}`;
    if (r.chunks) s += ` ${r.chunks[0]}--chunk-types ${r.chunks[1]} ${r.chunks[2]}`;
    return s;
  });

const dccpPacket = fc
  .record({
    sport: port,
    dport: port,
    doff: fc.integer({ min: 0, max: 10 }),
    type: fc.integer({ min: 0, max: 15 }),
    x: fc.boolean(),
    options: fc.array(fc.oneof(fc.constantFrom(0, 1, 32, 33, 44), fc.integer({ min: 0, max: 255 })), { maxLength: 24 }),
    frag: fragField,
    keep: truncation,
  })
  .map((r) => {
    const body = [r.sport >> 8, r.sport & 255, r.dport >> 8, r.dport & 255, r.doff, 0, 0, 0, (r.type << 1) | (r.x ? 1 : 0), 0, 0, 1, ...new Array(12).fill(0), ...r.options];
    return ipv4({ proto: 33, frag: r.frag, payload: cut(Uint8Array.from(body), r.keep) });
  });

const dccpRule = fc
  .record({
    dport: fc.option(fc.tuple(maybeNot, portSpec)),
    types: fc.option(fc.tuple(maybeNot, fc.subarray(['REQUEST', 'RESPONSE', 'DATA', 'ACK', 'DATAACK', 'CLOSEREQ', 'CLOSE', 'RESET', 'SYNC', 'SYNCACK', 'INVALID'], { minLength: 1, maxLength: 3 }))),
    option: fc.option(fc.tuple(maybeNot, fc.constantFrom(1, 32, 33, 44, 200))),
  })
  .filter((r) => r.dport !== null || r.types !== null || r.option !== null)
  .map((r) => {
    let s = '-p dccp -m dccp';
    if (r.dport) s += ` ${r.dport[0]}--dport ${r.dport[1]}`;
    if (r.types) s += ` ${r.types[0]}--dccp-types ${r.types[1].join(',')}`;
    if (r.option) s += ` ${r.option[0]}--dccp-option ${r.option[1]}`;
    return s;
  });

const spiPacket = fc
  .record({ proto: fc.constantFrom(50, 51), spi: fc.constantFrom(0, 1, 7, 256, 300, 301, 0xffffffff), frag: fragField, keep: truncation })
  .map((r) => {
    const spi = [r.spi >>> 24, (r.spi >>> 16) & 255, (r.spi >>> 8) & 255, r.spi & 255];
    const body = r.proto === 50 ? [...spi, 0, 0, 0, 1, 9, 9] : [6, 4, 0, 0, ...spi, 0, 0, 0, 1, 9, 9, 9, 9];
    return ipv4({ proto: r.proto, frag: r.frag, payload: cut(Uint8Array.from(body), r.keep) });
  });

const WORDS = ['GET', 'get', 'Host', 'HOST', 'host', 'AA', 'abcabd', 'abcabcabd', 'x', '\u00e9t', '\u00c9T', 'Get /', '\u00ff'];
const textPacket = fc
  .record({ proto: fc.constantFrom(6, 17), words: fc.array(fc.constantFrom(...WORDS), { maxLength: 8 }), pad: fc.integer({ min: 0, max: 20 }) })
  .map((r) => {
    const text = [...new Array(r.pad).fill(0x2e), ...r.words.flatMap((w) => [...w].map((c) => c.charCodeAt(0) & 0xff))];
    return ipv4({ proto: r.proto, payload: r.proto === 6 ? tcp({ data: text, dport: 80 }) : udp(1024, 80, text) });
  });

const tcpmssPacket = fc
  .record({
    lead: fc.array(fc.constantFrom(1, 0), { maxLength: 3 }),
    mss: fc.oneof(fc.constantFrom(536, 1000, 1460, 1461), fc.integer({ min: 0, max: 65535 })),
    len: fc.constantFrom(4, 3, 5, 0),
    flags: fc.constantFrom(0x02, 0x42, 0x82, 0xc2, 0x12),
    keep: truncation,
  })
  .map((r) => ipv4({ proto: 6, tos: r.flags & 3, payload: cut(tcp({ flags: r.flags, options: [...r.lead, 2, r.len, r.mss >> 8, r.mss & 255] }), r.keep) }));
