/**
 * The topologies the scenarios are built on, as scenario fragments: a
 * client and a server on one veth, a client and a server on two networks
 * joined by a router, and the tutorial's LEMON and APPLE on a bridge of a
 * router namespace with an "internet" namespace behind it.
 */
import type { Scenario } from './types.js';

/** The parts of a scenario a topology gives. */
export type Topology = Pick<Scenario, 'namespaces' | 'links' | 'addrs' | 'routes' | 'sysctls'>;

/** C (10.9.0.1) and S (10.9.0.2) on one veth, both eth0. */
export function pair(c = '10.9.0.1', s = '10.9.0.2', prefix = 24): Topology {
  return {
    namespaces: ['C', 'S'],
    links: [{ kind: 'veth', a: { ns: 'C', dev: 'eth0', mac: '02:00:00:00:00:01' }, b: { ns: 'S', dev: 'eth0', mac: '02:00:00:00:00:02' } }],
    addrs: [
      ['C', 'eth0', `${c}/${prefix}`],
      ['S', 'eth0', `${s}/${prefix}`],
    ],
  };
}

/** C 10.1.0.2 — (10.1.0.1 eth0) R (eth1 10.2.0.1) — S 10.2.0.2, R forwarding. */
export function routed(): Topology {
  return {
    namespaces: ['C', 'R', 'S'],
    links: [
      { kind: 'veth', a: { ns: 'C', dev: 'eth0', mac: '02:00:00:00:01:02' }, b: { ns: 'R', dev: 'eth0', mac: '02:00:00:00:01:01' } },
      { kind: 'veth', a: { ns: 'S', dev: 'eth0', mac: '02:00:00:00:02:02' }, b: { ns: 'R', dev: 'eth1', mac: '02:00:00:00:02:01' } },
    ],
    addrs: [
      ['C', 'eth0', '10.1.0.2/24'],
      ['R', 'eth0', '10.1.0.1/24'],
      ['R', 'eth1', '10.2.0.1/24'],
      ['S', 'eth0', '10.2.0.2/24'],
    ],
    routes: [
      ['C', 'default', 'via', '10.1.0.1'],
      ['S', 'default', 'via', '10.2.0.1'],
    ],
    sysctls: [['R', 'net.ipv4.ip_forward', '1']],
  };
}

/**
 * Seed 001 with the way out: LEMON (10.10.10.2) and APPLE (10.10.10.3) on
 * br0 of R (10.10.10.1), R's eth0 (203.0.113.1) to I, the Internet
 * (203.0.113.254).
 */
export function lemonApple(): Topology {
  return {
    namespaces: ['LEMON', 'APPLE', 'R', 'I'],
    links: [
      { kind: 'veth', a: { ns: 'LEMON', dev: 'lemon_eth1', mac: '02:00:00:00:0a:02' }, b: { ns: 'R', dev: 'lemon_br', mac: '02:00:00:00:0b:02' } },
      { kind: 'veth', a: { ns: 'APPLE', dev: 'apple_eth1', mac: '02:00:00:00:0a:03' }, b: { ns: 'R', dev: 'apple_br', mac: '02:00:00:00:0b:03' } },
      { kind: 'bridge', ns: 'R', dev: 'br0', mac: '02:00:00:00:0a:01', ports: ['lemon_br', 'apple_br'] },
      { kind: 'veth', a: { ns: 'R', dev: 'eth0', mac: '02:00:00:00:0c:01' }, b: { ns: 'I', dev: 'eth0', mac: '02:00:00:00:0c:fe' } },
    ],
    addrs: [
      ['LEMON', 'lemon_eth1', '10.10.10.2/24'],
      ['APPLE', 'apple_eth1', '10.10.10.3/24'],
      ['R', 'br0', '10.10.10.1/24'],
      ['R', 'eth0', '203.0.113.1/24'],
      ['I', 'eth0', '203.0.113.254/24'],
    ],
    routes: [
      ['LEMON', 'default', 'via', '10.10.10.1'],
      ['APPLE', 'default', 'via', '10.10.10.1'],
    ],
    sysctls: [['R', 'net.ipv4.ip_forward', '1']],
  };
}
