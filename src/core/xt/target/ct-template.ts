/**
 * The conntrack template the CT target attaches to a packet in the raw
 * table. As in the kernel, it sits where the packet's connection goes:
 * `skb.ct` holds a Conn whose status has IPS.TEMPLATE (the shape of
 * newTemplate in src/core/conntrack/hooks.ts), with `ctinfo` NEW, until
 * connection tracking replaces it with the real connection. Besides the
 * zone and helper every Conn has, the template carries what else the CT
 * rule decided (CtTemplate): the zone's direction, the timeout policy and
 * the event masks.
 *
 * What connection tracking does with it: a connection created for the
 * packet takes the template's zone (applying to the directions in
 * `zoneDir`), its helper (automatic helper assignment being off) and its
 * timeout policy; the event masks say which events `conntrack -E` reports
 * for it (0: all). With "--zone mark" the zone is the packet's mark (low
 * 16 bits) at the time the CT rule ran.
 */
import { IPS, type Conn } from '../../conntrack/types.js';
import type { Skb } from '../../path/skb.js';

/** A template connection with the CT rule's other settings. */
export interface CtTemplate extends Conn {
  /** Directions the zone applies to: 1 original, 2 reply, 3 both (NF_CT_ZONE_DIR_*). */
  zoneDir: number;
  /** Timeout policy name ('' none). */
  timeout: string;
  /** Bit per IPCT_* event to report (0: no restriction). */
  ctEvents: number;
  /** Bit per IPEXP_* event to report (0: no restriction). */
  expEvents: number;
}

/** The settings of a template besides the zone. */
export interface CtTemplateSettings {
  zoneDir: number;
  helper: string;
  timeout: string;
  ctEvents: number;
  expEvents: number;
}

/** A template connection for a zone and settings. */
export function makeTemplate(zone: number, s: CtTemplateSettings): CtTemplate {
  return {
    id: 0,
    orig: { src: 0, dst: 0, proto: 0, sport: 0, dport: 0 },
    reply: { src: 0, dst: 0, proto: 0, sport: 0, dport: 0 },
    status: IPS.TEMPLATE,
    expires: 0,
    mark: 0,
    secmark: 0,
    zone,
    labels: [0, 0, 0, 0],
    helper: s.helper,
    master: 0,
    l4: null,
    pkts: [0, 0],
    bytes: [0, 0],
    zoneDir: s.zoneDir,
    timeout: s.timeout,
    ctEvents: s.ctEvents,
    expEvents: s.expEvents,
  };
}

/** Whether a connection is a template (nf_ct_is_template). */
export function isTemplate(c: Conn): boolean {
  return (c.status & IPS.TEMPLATE) !== 0;
}

/** The template attached to the packet, or null. */
export function ctTemplateOf(skb: Skb): CtTemplate | null {
  const c = skb.ct;
  return c !== null && isTemplate(c) ? (c as CtTemplate) : null;
}
