/**
 * The LOG target's kernel log line. Every expected line below was first
 * read from the kernel's log (Linux 6.18, nf_log_all_netns=1): the frames
 * were sent with scapy from a peer namespace over a veth pair to a
 * namespace whose eth0 is 10.1.51.165/16 (MAC 0a:11:d1:09:77:ce), the
 * peer being 10.1.77.146 (MAC 0a:a2:e8:49:27:a3). The rules were
 *   -t mangle -A PREROUTING -p udp --dport 9999 -j MARK --set-mark 0xabc
 *   -A INPUT -j LOG --log-prefix "[A] "
 *   -A INPUT -j LOG --log-prefix "[B] " --log-tcp-sequence --log-tcp-options
 *      --log-ip-options --log-macdecode --log-uid --log-level 7
 * and, for fragments (which INPUT only sees reassembled), the same two in
 * the raw table's PREROUTING, the second one there without the TCP
 * sequence and UID flags (--log-level 1 on the first).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runKernelScenario } from './pktdiff/kernel.js';
import { formatLogLine, type LinkLayer } from '../src/core/path/log-format.js';
import { newSkb, type Skb } from '../src/core/path/skb.js';
import { LOG } from '../src/core/xt/target/LOG.js';
import type { KernelServices, PacketContext } from '../src/core/xt/packet.js';
import { XT_CONTINUE } from '../src/core/xt/verdict.js';

function fromHex(h: string): Uint8Array {
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/** A received Ethernet frame as the packet path holds it. */
function rxSkb(frameHex: string, indev = 'eth0'): Skb {
  const f = fromHex(frameHex);
  return newSkb(f.slice(14), f.slice(0, 14), indev);
}

/** [frame, line of rule A, line of rule B, flags of rule B]. */
const CAPTURED: readonly (readonly [string, string, string, number])[] = [
  [
    '0a11d10977ce0aa2e84927a3080047ff00440001c0004006166a0a014d920a0133a50107070401020304045708aeb2d05e0000000007a0c2ffff941e0009020405b40402080a000000010000000201030307',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=68 TOS=0x1E PREC=0xE0 TTL=64 ID=1 CE DF PROTO=TCP SPT=1111 DPT=2222 WINDOW=65535 RES=0x00 CWR ECE SYN URGP=9 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=68 TOS=0x1E PREC=0xE0 TTL=64 ID=1 CE DF OPT (010707080A0133A5) PROTO=TCP SPT=1111 DPT=2222 SEQ=3000000000 ACK=7 WINDOW=65535 RES=0x00 CWR ECE SYN URGP=9 OPT (020405B40402080A000000010000000201030307) ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000028000200004006e5950a014d920a0133a50001000200000000000000005fff2000eaa9ffff',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=2 PROTO=TCP SPT=1 DPT=2 WINDOW=8192 RES=0x38 AE CWR ECE URG ACK PSH RST SYN FIN URGP=65535 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=2 PROTO=TCP SPT=1 DPT=2 SEQ=0 ACK=0 WINDOW=8192 RES=0x38 AE CWR ECE URG ACK PSH RST SYN FIN URGP=65535 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000030000320004011c5810a014d920a0133a50035270f001c8e847878787878787878787878787878787878787878',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=3 MF PROTO=UDP SPT=53 DPT=9999 LEN=28 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=3 MF PROTO=UDP SPT=53 DPT=9999 LEN=28 ',
    0x26,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000028000400b94006e4da0a014d920a0133a57979797979797979797979797979797979797979',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4 FRAG:185 PROTO=TCP ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4 FRAG:185 PROTO=TCP ',
    0x26,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000028000500034011e5840a014d920a0133a57979797979797979797979797979797979797979',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=5 FRAG:3 PROTO=UDP ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=5 FRAG:3 PROTO=UDP ',
    0x26,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000028000600034001e5930a014d920a0133a57979797979797979797979797979797979797979',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=6 FRAG:3 PROTO=ICMP ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=6 FRAG:3 PROTO=ICMP ',
    0x26,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001c000700004001e5a10a014d920a0133a50000fff800030004',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ICMP TYPE=0 CODE=0 ID=3 SEQ=4 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ICMP TYPE=0 CODE=0 ID=3 SEQ=4 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000044000800004001e5780a014d920a0133a503048cd7000005784500002810e140003f0695b60a0133a50a014d920050a8ca0000000100000002501202006f7c0000',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=68 TOS=0x00 PREC=0x00 TTL=64 ID=8 PROTO=ICMP TYPE=3 CODE=4 [SRC=10.1.51.165 DST=10.1.77.146 LEN=40 TOS=0x00 PREC=0x00 TTL=63 ID=4321 DF PROTO=TCP SPT=80 DPT=43210 WINDOW=512 RES=0x00 ACK SYN URGP=0 ] MTU=1400 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=68 TOS=0x00 PREC=0x00 TTL=64 ID=8 PROTO=ICMP TYPE=3 CODE=4 [SRC=10.1.51.165 DST=10.1.77.146 LEN=40 TOS=0x00 PREC=0x00 TTL=63 ID=4321 DF PROTO=TCP SPT=80 DPT=43210 SEQ=1 ACK=2 WINDOW=512 RES=0x00 ACK SYN URGP=0 ] MTU=1400 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500003b000900004001e5800a014d920a0133a50b008a55000000004500001f00010000011124950a0133a50a014d9200050006000ba631616263',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=59 TOS=0x00 PREC=0x00 TTL=64 ID=9 PROTO=ICMP TYPE=11 CODE=0 [SRC=10.1.51.165 DST=10.1.77.146 LEN=31 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=UDP SPT=5 DPT=6 LEN=11 ] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=59 TOS=0x00 PREC=0x00 TTL=64 ID=9 PROTO=ICMP TYPE=11 CODE=0 [SRC=10.1.51.165 DST=10.1.77.146 LEN=31 TOS=0x00 PREC=0x00 TTL=1 ID=1 PROTO=UDP SPT=5 DPT=6 LEN=11 ] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000038000a00004001e5820a014d920a0133a50501f0fc0a0100014500001c000100004001e5a70a0133a50a014d920800f7fc00010002',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=10 PROTO=ICMP TYPE=5 CODE=1 GATEWAY=10.1.0.1 [SRC=10.1.51.165 DST=10.1.77.146 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=2 ] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=10 PROTO=ICMP TYPE=5 CODE=1 GATEWAY=10.1.0.1 [SRC=10.1.51.165 DST=10.1.77.146 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=2 ] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000044000b00004001e5750a014d920a0133a50c007553140000004500002810e140003f0695b60a0133a50a014d920050a8ca0000000100000002501202006f7c0000',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=68 TOS=0x00 PREC=0x00 TTL=64 ID=11 PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=68 TOS=0x00 PREC=0x00 TTL=64 ID=11 PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000028000c00004001e5900a014d920a0133a50d00350600010002010293a5010293a5010293a5',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=12 PROTO=ICMP TYPE=13 CODE=0 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=12 PROTO=ICMP TYPE=13 CODE=0 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000020000d00004001e5970a014d920a0133a51100eeff0000000000000000',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=13 PROTO=ICMP TYPE=17 CODE=0 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=13 PROTO=ICMP TYPE=17 CODE=0 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001c000e00004001e59a0a014d920a0133a51e00e1ff00000000',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=14 PROTO=ICMP TYPE=30 CODE=0 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=14 PROTO=ICMP TYPE=30 CODE=0 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000016000f00004001e59f0a014d920a0133a50800',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=22 TOS=0x00 PREC=0x00 TTL=64 ID=15 PROTO=ICMP INCOMPLETE [2 bytes] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=22 TOS=0x00 PREC=0x00 TTL=64 ID=15 PROTO=ICMP INCOMPLETE [2 bytes] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001f001000004001e5950a014d920a0133a50303000000000000616263',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=31 TOS=0x00 PREC=0x00 TTL=64 ID=16 PROTO=ICMP TYPE=3 CODE=3 INCOMPLETE [11 bytes] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=31 TOS=0x00 PREC=0x00 TTL=64 ID=16 PROTO=ICMP TYPE=3 CODE=3 INCOMPLETE [11 bytes] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001f001100004001e5940a014d920a0133a50d00000000000000616263',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=31 TOS=0x00 PREC=0x00 TTL=64 ID=17 PROTO=ICMP TYPE=13 CODE=0 INCOMPLETE [11 bytes] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=31 TOS=0x00 PREC=0x00 TTL=64 ID=17 PROTO=ICMP TYPE=13 CODE=0 INCOMPLETE [11 bytes] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001e001200004006e58f0a014d920a0133a500010002000000000000',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=18 PROTO=TCP INCOMPLETE [10 bytes] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=18 PROTO=TCP INCOMPLETE [10 bytes] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000018001300004011e5890a014d920a0133a500010002',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=19 PROTO=UDP INCOMPLETE [4 bytes] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=19 PROTO=UDP INCOMPLETE [4 bytes] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001c001400004088e50d0a014d920a0133a50007000800086a96',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=20 PROTO=UDPLITE SPT=7 DPT=8 LEN=8 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=20 PROTO=UDPLITE SPT=7 DPT=8 LEN=8 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a30800450000180015000040fde49b0a014d920a0133a561626364',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=21 PROTO=253 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=21 PROTO=253 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000020001600004033e55c0a014d920a0133a5060400001234567800000001',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=22 PROTO=AH SPI=0x12345678 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=22 PROTO=AH SPI=0x12345678 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001c001700004032e5600a014d920a0133a51234567800000001',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=23 PROTO=ESP SPI=0x12345678 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=23 PROTO=ESP SPI=0x12345678 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000016001800004032e5650a014d920a0133a51234',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=22 TOS=0x00 PREC=0x00 TTL=64 ID=24 PROTO=ESP INCOMPLETE [2 bytes] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=22 TOS=0x00 PREC=0x00 TTL=64 ID=24 PROTO=ESP INCOMPLETE [2 bytes] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000018001900054033e55c0a014d920a0133a561626364',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=25 FRAG:5 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=25 FRAG:5 ',
    0x26,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000018001a00054032e55c0a014d920a0133a561626364',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=26 FRAG:5 PROTO=ESP ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=24 TOS=0x00 PREC=0x00 TTL=64 ID=26 FRAG:5 PROTO=ESP ',
    0x26,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000034001b00004001e5750a014d920a0133a50303e28a000000004500001c00000000401100000a0133a50a014d9200050006',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=27 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.51.165 DST=10.1.77.146 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=UDP INCOMPLETE [4 bytes] ] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=27 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.51.165 DST=10.1.77.146 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=UDP INCOMPLETE [4 bytes] ] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500004c001c00004001e55c0a014d920a0133a5030392540000000046000030000100004006e28c0a0133a50a014d920101010100010002000000000000000060022000e8a0000001010101',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=76 TOS=0x00 PREC=0x00 TTL=64 ID=28 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.51.165 DST=10.1.77.146 LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=TCP SPT=1 DPT=2 WINDOW=8192 RES=0x00 SYN URGP=0 ] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=76 TOS=0x00 PREC=0x00 TTL=64 ID=28 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.51.165 DST=10.1.77.146 LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=1 OPT (01010101) PROTO=TCP SPT=1 DPT=2 SEQ=0 ACK=0 WINDOW=8192 RES=0x00 SYN URGP=0 OPT (01010101) ] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000038001d00004001e56f0a014d920a0133a503012c2a000000004500001c000100074006e59b0a0133a50a014d923132333435363738',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=29 PROTO=ICMP TYPE=3 CODE=1 [SRC=10.1.51.165 DST=10.1.77.146 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 FRAG:7 PROTO=TCP ] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=29 PROTO=ICMP TYPE=3 CODE=1 [SRC=10.1.51.165 DST=10.1.77.146 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 FRAG:7 PROTO=TCP ] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000054001e00004001e5520a014d920a0133a50301fcfe0000000045000038000100004001e58b0a0133a50a014d920301031e000000004500001c00010000401174cb0101010102020202003500350008f96e',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=30 PROTO=ICMP TYPE=3 CODE=1 [SRC=10.1.51.165 DST=10.1.77.146 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=1 ] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=30 PROTO=ICMP TYPE=3 CODE=1 [SRC=10.1.51.165 DST=10.1.77.146 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=1 ] ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500002a001f00004006e5760a014d920a0133a5000100020000000000000000f0020000000000000101',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=42 TOS=0x00 PREC=0x00 TTL=64 ID=31 PROTO=TCP SPT=1 DPT=2 WINDOW=0 RES=0x00 SYN URGP=0 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=42 TOS=0x00 PREC=0x00 TTL=64 ID=31 PROTO=TCP SPT=1 DPT=2 SEQ=0 ACK=0 WINDOW=0 RES=0x00 SYN URGP=0 OPT (TRUNCATED)',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001c002000004011e5780a014d920a0133a50001270f0003439a',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=32 PROTO=UDP SPT=1 DPT=9999 LEN=3 MARK=0xabc ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=32 PROTO=UDP SPT=1 DPT=9999 LEN=3 MARK=0xabc ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000034002100004001e56f0a014d920a0133a50e00f8ce00010002010293a5010293a5010293a5313233343536373839303132',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=33 PROTO=ICMP TYPE=14 CODE=0 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=33 PROTO=ICMP TYPE=14 CODE=0 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a3080045000024002200004001e57e0a014d920a0133a512008999000000000000000031323334',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=34 PROTO=ICMP TYPE=18 CODE=0 ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=34 PROTO=ICMP TYPE=18 CODE=0 ',
    0x2f,
  ],
  [
    '0a11d10977ce0aa2e84927a308004500001f002300004001e5820a014d920a0133a50e00000000000000616263',
    'IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=31 TOS=0x00 PREC=0x00 TTL=64 ID=35 PROTO=ICMP TYPE=14 CODE=0 INCOMPLETE [11 bytes] ',
    'IN=eth0 OUT= MACSRC=0a:a2:e8:49:27:a3 MACDST=0a:11:d1:09:77:ce MACPROTO=0800 SRC=10.1.77.146 DST=10.1.51.165 LEN=31 TOS=0x00 PREC=0x00 TTL=64 ID=35 PROTO=ICMP TYPE=14 CODE=0 INCOMPLETE [11 bytes] ',
    0x2f,
  ],
];

test('LOG lines of received frames match the kernel capture', () => {
  for (const [frame, lineA, lineB, flagsB] of CAPTURED) {
    const skb = rxSkb(frame);
    // Routing input (ip_rcv_options, after PREROUTING) wrote this host's
    // address into the free slot of the first frame's Record Route option.
    if (skb.data[20] === 1 && skb.data[21] === 7) skb.data.set([8, 10, 1, 51, 165], 23);
    // The mangle rule marked the UDP datagram to port 9999 logged in INPUT (IP ID 32).
    if (skb.data[4] === 0 && skb.data[5] === 32) skb.mark = 0xabc;
    const base = { indev: 'eth0', outdev: '', link: 'ether' as LinkLayer };
    assert.equal(formatLogLine(skb, { ...base, prefix: '', logflags: 0 }), lineA);
    assert.equal(formatLogLine(skb, { ...base, prefix: '', logflags: flagsB }), lineB);
  }
});

/** An IPv4 header followed by `l4`, for locally generated packets whose bytes were not captured. */
function datagram(src: string, dst: string, proto: number, id: number, df: boolean, tos: number, l4: number[]): Uint8Array {
  const d = new Uint8Array(20 + l4.length);
  const len = d.length;
  d.set([0x45, tos, len >> 8, len & 255, id >> 8, id & 255, df ? 0x40 : 0, 0, 64, proto, 0, 0]);
  d.set(src.split('.').map(Number), 12);
  d.set(dst.split('.').map(Number), 16);
  d.set(l4, 20);
  return d;
}

// A process running as uid 1234, gid 4321 in the namespace sent "hi" over
// UDP from port 55892 to 10.1.77.146:5000 and to 127.0.0.1:5001, and
// connected to 127.0.0.1:5002 where nothing listened. Rules:
//   -A OUTPUT -j LOG --log-uid          (and the same with --log-macdecode)
//   -A INPUT -i lo -j LOG               (and the same with --log-macdecode)
const UDP_HI = [0xda, 0x54, 0x13, 0x88, 0, 10, 0, 0, 0x68, 0x69];

test('LOG in OUTPUT: no MAC part, UID and GID of the sending socket', () => {
  const skb = newSkb(datagram('10.1.51.165', '10.1.77.146', 17, 34250, true, 0, UDP_HI), null, '');
  skb.owner = { uid: 1234, gid: 4321 };
  const p = { prefix: '', indev: '', outdev: 'eth0', link: 'ether' as LinkLayer };
  const want =
    'IN= OUT=eth0 SRC=10.1.51.165 DST=10.1.77.146 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=34250 DF PROTO=UDP SPT=55892 DPT=5000 LEN=10 UID=1234 GID=4321 ';
  assert.equal(formatLogLine(skb, { ...p, logflags: 0x08 }), want);
  assert.equal(formatLogLine(skb, { ...p, logflags: 0x28 }), want);
  // Without the flag the owner is not printed.
  assert.equal(formatLogLine(skb, { ...p, logflags: 0 }), want.replace('UID=1234 GID=4321 ', ''));
});

test('LOG on loopback: the all-zero link header, also with --log-macdecode', () => {
  const l4 = [0xda, 0x54, 0x13, 0x89, 0, 10, 0, 0, 0x68, 0x69];
  const skb = newSkb(datagram('127.0.0.1', '127.0.0.1', 17, 4, true, 0, l4), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0]), 'lo');
  const want =
    'IN=lo OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=127.0.0.1 DST=127.0.0.1 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=4 DF PROTO=UDP SPT=55892 DPT=5001 LEN=10 ';
  const p = { prefix: '', indev: 'lo', outdev: '', link: 'loopback' as LinkLayer };
  assert.equal(formatLogLine(skb, { ...p, logflags: 0 }), want);
  assert.equal(formatLogLine(skb, { ...p, logflags: 0x20 }), want);
});

test('LOG of the kernel\'s own replies: no UID for packets without a socket', () => {
  // The port unreachable the kernel sent back over lo for the datagram above.
  const quoted = datagram('127.0.0.1', '127.0.0.1', 17, 4, true, 0, [0xda, 0x54, 0x13, 0x89, 0, 10, 0, 0, 0x68, 0x69]);
  const skb = newSkb(datagram('127.0.0.1', '127.0.0.1', 1, 6391, false, 0xc0, [3, 3, 0, 0, 0, 0, 0, 0, ...quoted]), null, '');
  assert.equal(
    formatLogLine(skb, { prefix: '', logflags: 0x08, indev: '', outdev: 'lo', link: 'ether' }),
    'IN= OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=58 TOS=0x00 PREC=0xC0 TTL=64 ID=6391 PROTO=ICMP TYPE=3 CODE=3 [SRC=127.0.0.1 DST=127.0.0.1 LEN=30 TOS=0x00 PREC=0x00 TTL=64 ID=4 DF PROTO=UDP SPT=55892 DPT=5001 LEN=10 ] ',
  );
});

test('a device without a link header prints an empty MAC=; a decoded header needs all 14 bytes', () => {
  const skb = newSkb(datagram('10.0.0.1', '10.0.0.2', 253, 1, false, 0, []), null, 'tun0');
  assert.equal(
    formatLogLine(skb, { prefix: 'p ', logflags: 0, indev: 'tun0', outdev: 'eth1', link: 'none' }),
    'p IN=tun0 OUT=eth1 MAC= SRC=10.0.0.1 DST=10.0.0.2 LEN=20 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=253 ',
  );
  assert.equal(
    formatLogLine(skb, { prefix: 'p ', logflags: 0x20, indev: 'tun0', outdev: 'eth1', link: 'ether' }),
    'p IN=tun0 OUT=eth1 SRC=10.0.0.1 DST=10.0.0.2 LEN=20 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=253 ',
  );
});

test('LOG of a forwarded packet: FORWARD and POSTROUTING both have the input device and its MAC', () => {
  // Captured on a router (eth0 02:00:00:00:00:01 10.0.0.1/24, eth1 10.9.0.1/24)
  // with -t mangle -A FORWARD -j LOG and -t mangle -A POSTROUTING -j LOG, for a
  // SYN from 10.0.0.2 (02:00:00:00:00:02) to 10.9.0.2 after its TTL went 9 -> 8.
  const d = fromHex('450000280000000008069ec40a0000020a0900020001005000000000000000005002faf0a0940000');
  const skb = newSkb(d, fromHex('020000000001020000000002' + '0800'), 'eth0');
  const want =
    'IN=eth0 OUT=eth1 MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=10.0.0.2 DST=10.9.0.2 LEN=40 TOS=0x00 PREC=0x00 TTL=8 ID=0 PROTO=TCP SPT=1 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 ';
  assert.equal(formatLogLine(skb, { prefix: '', logflags: 0, indev: 'eth0', outdev: 'eth1', link: 'ether' }), want);
});

/** A kernel that records printk calls. */
function recordingKernel(lines: [number, string][]): KernelServices {
  return {
    nowNs: () => 0,
    jiffies: () => 0,
    wallSec: () => 0,
    random32: () => 0,
    net: { links: [{ name: 'lo', kind: 'loopback' }, { name: 'eth0', kind: 'veth' }] },
    shared: {},
    conntrack: { count: () => 0, forEach: () => {} },
    printk: (level, text) => lines.push([level, text]),
    sendLocal: () => {},
  };
}

test('the LOG target prints at its level with its prefix and lets the packet go on', () => {
  const lines: [number, string][] = [];
  const kernel = recordingKernel(lines);
  const [frame, lineA] = CAPTURED[6]!;
  const skb = rxSkb(frame);
  const ctx: PacketContext = { skb, thoff: 20, fragoff: 0, family: 'ipv4', hook: 'INPUT', table: 'filter', in: 'eth0', out: '', hotdrop: false, kernel };
  const info = { level: 1, logflags: 0, prefix: '[INPUT]' };
  assert.equal(LOG.target!(info, ctx, undefined), XT_CONTINUE);
  const lo = rxSkb('00000000000000000000000008004500001c0001000040017ce27f0000017f0000010800f7ff00000000', 'lo');
  assert.equal(LOG.target!(LOG.init(), { ...ctx, skb: lo, in: 'lo' }, undefined), XT_CONTINUE);
  assert.deepEqual(lines, [
    [1, '[INPUT]' + lineA],
    [4, 'IN=lo OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=127.0.0.1 DST=127.0.0.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=0 SEQ=0 '],
  ]);
});

test('the tutorial\'s lines: an echo request in INPUT and the REJECT reply in OUTPUT', () => {
  // Field for field the lines of the tutorial's /var/log/messages (after
  // syslog's date, host name and "kernel: "), which the kernel also wrote
  // for the same packets rebuilt and sent in the namespaces above.
  const echo = datagram('10.1.77.146', '10.1.51.165', 1, 10084, true, 0, [8, 0, 0, 0, 0x05, 0xd8, 0, 1, ...new Array(56).fill(0)]);
  const mac = fromHex('0a11d10977ce0aa2e84927a30800');
  assert.equal(
    formatLogLine(newSkb(echo, mac, 'eth0'), { prefix: '[INPUT]', logflags: 0, indev: 'eth0', outdev: '', link: 'ether' }),
    '[INPUT]IN=eth0 OUT= MAC=0a:11:d1:09:77:ce:0a:a2:e8:49:27:a3:08:00 SRC=10.1.77.146 DST=10.1.51.165 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=10084 DF PROTO=ICMP TYPE=8 CODE=0 ID=1496 SEQ=1 ',
  );
  const syn = datagram('10.1.77.146', '10.1.51.165', 6, 40037, true, 0, [
    0xd9, 0xac, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02, 0x69, 0x03, 0, 0, 0, 0, ...new Array(20).fill(1),
  ]);
  const reply = datagram('10.1.51.165', '10.1.77.146', 1, 41414, false, 0xc0, [3, 3, 0, 0, 0, 0, 0, 0, ...syn]);
  assert.equal(
    formatLogLine(newSkb(reply, null, ''), { prefix: '[OUTPUT] ', logflags: 0, indev: '', outdev: 'eth0', link: 'ether' }),
    '[OUTPUT] IN= OUT=eth0 SRC=10.1.51.165 DST=10.1.77.146 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=41414 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.1.77.146 DST=10.1.51.165 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=40037 DF PROTO=TCP SPT=55724 DPT=22 WINDOW=26883 RES=0x00 SYN URGP=0 ] ',
  );
});

test('the kernel and formatLogLine agree on the captured frames (live namespaces)', async () => {
  // The same frames again, logged in raw PREROUTING (as received, fragments
  // included) and in INPUT (after routing input and the mangle table).
  const frames = CAPTURED.map(([frame]) => ({ iface: 'eth0' as const, bytes: fromHex(frame) }));
  const observed = await runKernelScenario({
    name: 'log-lines',
    setup: ['ip link set lo up', 'ip link set eth0 up', 'ip addr add 10.1.51.165/16 dev eth0'],
    rules:
      '*raw\n-A PREROUTING -i eth0 -j LOG --log-prefix "[R] " --log-ip-options --log-tcp-options --log-macdecode\nCOMMIT\n' +
      '*mangle\n-A PREROUTING -p udp --dport 9999 -j MARK --set-mark 0xabc\nCOMMIT\n' +
      '*filter\n-A INPUT -i eth0 -j LOG --log-prefix "[A] "\n' +
      '-A INPUT -i eth0 -j LOG --log-prefix "[B] " --log-tcp-sequence --log-tcp-options --log-ip-options --log-macdecode --log-uid --log-level 7\n' +
      '-A INPUT -j DROP\nCOMMIT\n',
    frames,
    macs: { eth0: '0a:11:d1:09:77:ce' },
    peerMacs: { eth0: '0a:a2:e8:49:27:a3' },
  });
  const ours: string[] = [];
  const base = { indev: 'eth0', outdev: '', link: 'ether' as LinkLayer };
  for (const [frame] of CAPTURED) {
    const skb = rxSkb(frame);
    ours.push(formatLogLine(skb, { ...base, prefix: '[R] ', logflags: 0x26 }));
    const d = skb.data;
    if (((d[6]! << 8) | d[7]!) & 0x3fff) continue; // fragments wait for reassembly before INPUT
    if (d[20] === 1 && d[21] === 7) d.set([8, 10, 1, 51, 165], 23);
    if (d[9] === 17 && d[22] === 0x27 && d[23] === 0x0f) skb.mark = 0xabc;
    ours.push(formatLogLine(skb, { ...base, prefix: '[A] ', logflags: 0 }));
    ours.push(formatLogLine(skb, { ...base, prefix: '[B] ', logflags: 0x2f }));
  }
  assert.equal(observed.log.length, 93);
  assert.deepEqual(observed.log, ours);
});
