/**
 * Registers the ip6 group: the IPv6-only matches and targets (libip6t_*)
 * and the IPv6 modules of extensions that have one per family (REJECT,
 * ah, NETMAP, the NAT targets).
 */
import { register } from '../registry.js';
import { ah6 } from '../match/ah6.js';
import { eui64 } from '../match/eui64.js';
import { frag } from '../match/frag.js';
import { hl } from '../match/hl.js';
import { icmp6 } from '../match/icmp6.js';
import { dst, hbh } from '../match/ip6-opts.js';
import { ipv6header } from '../match/ipv6header.js';
import { mh } from '../match/mh.js';
import { rt } from '../match/rt.js';
import { srh } from '../match/srh.js';
import { HL } from '../target/HL.js';
import { DNAT6, MASQUERADE6, REDIRECT6, SNAT6 } from '../target/nat6.js';
import { NETMAP6 } from '../target/NETMAP6.js';
import { DNPT, SNPT } from '../target/NPT.js';
import { REJECT6 } from '../target/REJECT6.js';

register(icmp6, hl, rt, frag, hbh, dst, ah6, mh, ipv6header, eui64, srh, REJECT6, HL, DNPT, SNPT, NETMAP6, SNAT6, DNAT6, MASQUERADE6, REDIRECT6);
