/**
 * Registers the proto group of extensions: protocol and header matches
 * (udp, icmp, multiport, sctp, ...) and the header-rewriting targets.
 */
import { register } from '../registry.js';
import { addrtype } from '../match/addrtype.js';
import { ah } from '../match/ah.js';
import { cpu } from '../match/cpu.js';
import { dccp } from '../match/dccp.js';
import { devgroup } from '../match/devgroup.js';
import { dscp } from '../match/dscp.js';
import { ecn } from '../match/ecn.js';
import { esp } from '../match/esp.js';
import { icmp } from '../match/icmp.js';
import { ipcomp } from '../match/ipcomp.js';
import { iprange } from '../match/iprange.js';
import { length } from '../match/length.js';
import { mac } from '../match/mac.js';
import { multiport } from '../match/multiport.js';
import { pkttype } from '../match/pkttype.js';
import { realm } from '../match/realm.js';
import { rpfilter } from '../match/rpfilter.js';
import { sctp } from '../match/sctp.js';
import { tcpmss } from '../match/tcpmss.js';
import { tos } from '../match/tos.js';
import { ttl } from '../match/ttl.js';
import { u32 } from '../match/u32.js';
import { udp } from '../match/udp.js';
import { CHECKSUM } from '../target/CHECKSUM.js';
import { DSCP } from '../target/DSCP.js';
import { ECN } from '../target/ECN.js';
import { TCPMSS } from '../target/TCPMSS.js';
import { TCPOPTSTRIP } from '../target/TCPOPTSTRIP.js';
import { TOS } from '../target/TOS.js';
import { TTL } from '../target/TTL.js';

register(
  udp,
  icmp,
  multiport,
  mac,
  addrtype,
  iprange,
  pkttype,
  length,
  ttl,
  tos,
  dscp,
  tcpmss,
  sctp,
  dccp,
  esp,
  ah,
  ipcomp,
  ecn,
  realm,
  cpu,
  rpfilter,
  devgroup,
  u32,
  TCPMSS,
  TOS,
  DSCP,
  TTL,
  ECN,
  TCPOPTSTRIP,
  CHECKSUM,
);
