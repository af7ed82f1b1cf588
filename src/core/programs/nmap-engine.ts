/**
 * The scheduling core of nmap's scans (its "ultra scan"): which probe to
 * send when, when a probe has timed out, how often a silent port is tried
 * again, and how the round-trip estimate, the congestion window and the
 * delay between probes follow the answers. It knows nothing of packets:
 * the caller sends the probes it hands out and reports the answers.
 *
 * Modelled on nmap 7.93 (timing.cc, scan_engine.cc): a window of
 * outstanding probes starting at 10 that grows with answers (slow start
 * to 75, then one per round trip, scaled by how many answers were
 * expected) and collapses when an answer to a retransmission shows a
 * probe was lost; a timeout of the smoothed round trip plus four times
 * its variance, kept between the timing template's bounds; a silent
 * item tried once more than the highest try that ever got an answer;
 * a pause of a second before the first retransmission of each new try
 * (rate-limit detection); timing pings to an item known to answer when
 * answers stop; and a delay between probes that doubles while most
 * answers come only to retransmissions (a target rate-limiting its ICMP
 * errors).
 */

/** Nanoseconds in a millisecond. */
const MS = 1_000_000;

/** The timing values a -T template sets (nmap's defaults are -T3). */
export interface TimingTemplate {
  /** 0..5 (paranoid .. insane). */
  level: number;
  /** Timeout before any round trip was measured (ns). */
  initialRttNs: number;
  minRttNs: number;
  maxRttNs: number;
  /** Retransmissions at most. */
  maxRetries: number;
  /** Delay between probes from the start (ns). */
  scanDelayNs: number;
  /** The most the delay may grow to (ns). */
  maxScanDelayNs: number;
}

/** The -T0 .. -T5 templates, as nmap's apply_timing_template sets them. */
export function timingTemplate(level: number): TimingTemplate {
  const t: TimingTemplate = {
    level,
    initialRttNs: 1000 * MS,
    minRttNs: 100 * MS,
    maxRttNs: 10_000 * MS,
    maxRetries: 10,
    scanDelayNs: 0,
    maxScanDelayNs: 1000 * MS,
  };
  if (level === 0) {
    t.initialRttNs = 300_000 * MS;
    t.scanDelayNs = 300_000 * MS;
    t.maxScanDelayNs = 300_000 * MS;
  } else if (level === 1) {
    t.initialRttNs = 15_000 * MS;
    t.scanDelayNs = 15_000 * MS;
    t.maxScanDelayNs = 15_000 * MS;
  } else if (level === 2) {
    t.scanDelayNs = 400 * MS;
    t.maxScanDelayNs = 1000 * MS;
  } else if (level === 4) {
    t.initialRttNs = 500 * MS;
    t.maxRttNs = 1250 * MS;
    t.maxRetries = 6;
    t.maxScanDelayNs = 10 * MS;
  } else if (level === 5) {
    t.initialRttNs = 250 * MS;
    t.minRttNs = 50 * MS;
    t.maxRttNs = 300 * MS;
    t.maxRetries = 2;
    t.maxScanDelayNs = 5 * MS;
  }
  return t;
}

/** A round-trip estimate (nmap's timeout_info), in ns; srtt < 0 until measured. */
export interface RttEstimate {
  srtt: number;
  rttvar: number;
  timeout: number;
}

/** A fresh estimate: nothing measured, the template's initial timeout. */
export function newRtt(t: TimingTemplate): RttEstimate {
  return { srtt: -1, rttvar: -1, timeout: t.initialRttNs };
}

/** Folds one measured round trip into the estimate (adjust_timeouts2). */
export function rttSample(est: RttEstimate, deltaNs: number, t: TimingTemplate): void {
  const US = 1000;
  let delta = Math.floor(deltaNs / US);
  if (delta < 0) delta = 0;
  if (delta >= 8_000_000) return; // nmap ignores absurd samples
  if (est.srtt < 0) {
    est.srtt = delta;
    est.rttvar = Math.max(5000, Math.min(delta, 2_000_000));
  } else {
    const d = delta - est.srtt;
    est.srtt += Math.trunc(d / 8);
    est.rttvar += Math.trunc((Math.abs(d) - est.rttvar) / 4);
    est.rttvar = Math.min(est.rttvar, 2_000_000);
  }
  est.timeout = Math.max(t.minRttNs, Math.min(t.maxRttNs, (est.srtt + 4 * est.rttvar) * US));
}

/** A congestion window (ultra_timing_vals). */
interface Window {
  cwnd: number;
  ssthresh: number;
  expected: number;
  received: number;
  lastDrop: number;
}

function newWindow(): Window {
  return { cwnd: 10, ssthresh: 75, expected: 0, received: 0, lastDrop: -1 };
}

/** A probe handed to the caller to send. */
export interface ProbeOrder {
  /** Index of the item (port or host) in the list the scan was built with. */
  item: number;
  /** 0 for the first probe of the item, then 1, 2... for retransmissions; PING_TRY for a timing ping. */
  tryno: number;
}

/** The try number of a timing ping: a probe to an item known to answer, sent when answers stop coming. */
export const PING_TRY = -1;

/** How long without answers before a timing ping (nmap's pingtime, 1.25 s). */
const PING_TIME_NS = 1250 * MS;

/** How much more a ping's answer opens the window than a probe's (ping_magnifier). */
const PING_MAGNIFIER = 3;

interface Outstanding {
  item: number;
  tryno: number;
  sentNs: number;
  /** Past its timeout at the highest try allowed: kept (nmap's bench) for a late answer, or a retry if more tries become allowed. */
  timedOut: boolean;
}

/**
 * One scan of a list of items (the ports of a host, or the hosts of a
 * ping scan): call `due` to get the probes to send now, `answer` when a
 * probe got its answer, and wait until `nextWake` (or an answer).
 * Items silent after every allowed try end up in `silent`.
 */
export class UltraScan {
  private readonly outstanding: Outstanding[] = [];
  /** How many of `outstanding` are still inside their timeout. */
  private activeCount = 0;
  private readonly retry: { item: number; tryno: number }[] = [];
  private nextFresh = 0;
  private readonly finished: Uint8Array;
  private left: number;
  private readonly host = newWindow();
  private readonly group = newWindow();
  private maxSuccessfulTryno = 0;
  private sendDelayNs: number;
  private lastSendNs = -Infinity;
  private lastBoostNs = -1;
  private goodSinceBoost = 0;
  private droppedSinceBoost = 0;
  private lastRcvdNs: number;
  private lastPingNs = -Infinity;
  private sentAtLastPing = 0;
  private pingItem = -1;
  private ping: { sentNs: number } | null = null;
  /** Rate-limit detection: the highest try sent so far, and the pause before the first retransmission of each new try. */
  private maxTrynoSent = 0;
  private rldUntilNs = -Infinity;
  /** The try at which the first item gave up because the retransmission cap, not the answers, stopped it (null: none did). */
  cappedTryno: number | null = null;
  /** Items that never answered, in the order they gave up. */
  readonly silent: number[] = [];
  /** Probes sent, retransmissions included. */
  sent = 0;

  constructor(
    readonly count: number,
    readonly timing: TimingTemplate,
    /** The target's round-trip estimate (shared with its other scans). */
    readonly rtt: RttEstimate,
    nowNs: number,
    /** UDP scans start the probe delay at 50 ms when they first need one (TCP: 5 ms). */
    private readonly udp = false,
    /**
     * Pause a second before the first retransmission of each new try
     * (nmap's rate-limit detection): 'multi' when more than one item is
     * scanned (port scans), 'always' (ARP ping scans), 'off' (other ping scans).
     */
    private readonly rateLimitDetection: 'multi' | 'always' | 'off' = 'multi',
  ) {
    this.finished = new Uint8Array(count);
    this.left = count;
    this.sendDelayNs = timing.scanDelayNs;
    this.lastRcvdNs = nowNs;
  }

  /** Makes `item` (one that answered) the target of timing pings. */
  setPingItem(item: number): void {
    this.pingItem = item;
  }

  /** Every item has answered or given up. */
  done(): boolean {
    return this.left === 0;
  }

  private allowedTryno(): number {
    return Math.min(this.timing.maxRetries, this.maxSuccessfulTryno + 1);
  }

  /** A probe's timeout: the target's round-trip estimate. */
  private probeTimeout(): number {
    return this.rtt.timeout;
  }

  /** Whether `item` has answered or given up. */
  isFinished(item: number): boolean {
    return this.finished[item] === 1;
  }

  private expire(nowNs: number): void {
    if (this.ping && this.ping.sentNs + this.rtt.timeout <= nowNs) {
      // an unanswered timing ping counts as a drop
      this.dropped(this.ping.sentNs, nowNs);
      this.ping = null;
    }
    for (let i = 0; i < this.outstanding.length; ) {
      const p = this.outstanding[i]!;
      if (this.finished[p.item]) {
        this.removeAt(i);
        continue;
      }
      if (!p.timedOut && p.sentNs + this.probeTimeout() <= nowNs) {
        // every timeout counts as an answer expected and not received (the window's scale grows)
        p.timedOut = true;
        this.activeCount--;
        this.host.expected++;
        this.group.expected++;
      }
      if (p.timedOut && p.tryno < this.allowedTryno()) {
        this.removeAt(i);
        this.retry.push({ item: p.item, tryno: p.tryno + 1 });
        continue;
      }
      i++;
    }
    // timed-out probes at the highest try wait (nmap's bench) while an answer elsewhere could still allow another try
    if (this.mayIncrease()) return;
    for (let i = this.outstanding.length - 1; i >= 0; i--) {
      const p = this.outstanding[i]!;
      if (!p.timedOut) continue;
      this.removeAt(i);
      this.finished[p.item] = 1;
      this.left--;
      this.silent.push(p.item);
      if (this.cappedTryno === null && Math.max(1, this.maxSuccessfulTryno + 1) > this.timing.maxRetries) this.cappedTryno = p.tryno;
    }
  }

  /** Whether more tries may still become allowed: something is in flight or left to send. */
  private mayIncrease(): boolean {
    return this.active() > 0 || this.nextFresh < this.count || this.retry.some((r) => !this.finished[r.item]);
  }

  /** Probes still waiting inside their timeout (the ones the window counts). */
  private active(): number {
    return this.activeCount;
  }

  /** Takes the probe at `i` out of the outstanding list. */
  private removeAt(i: number): void {
    if (!this.outstanding[i]!.timedOut) this.activeCount--;
    this.outstanding.splice(i, 1);
  }

  private windowFree(): boolean {
    return this.active() + (this.ping ? 1 : 0) < Math.floor(Math.min(this.host.cwnd, this.group.cwnd));
  }

  private pingDue(nowNs: number): boolean {
    return (
      this.pingItem >= 0 &&
      !this.ping &&
      this.sent >= this.sentAtLastPing + 10 &&
      nowNs - this.lastRcvdNs > PING_TIME_NS &&
      nowNs - this.lastPingNs > PING_TIME_NS &&
      this.windowFree()
    );
  }

  /** The probes to send at `nowNs` (retransmissions first), after expiring those that timed out. */
  due(nowNs: number): ProbeOrder[] {
    this.expire(nowNs);
    const out: ProbeOrder[] = [];
    if (!this.done() && this.pingDue(nowNs)) {
      this.ping = { sentNs: nowNs };
      this.lastPingNs = nowNs;
      this.sentAtLastPing = this.sent;
      out.push({ item: this.pingItem, tryno: PING_TRY });
    }
    while (this.windowFree()) {
      if (nowNs < this.rldUntilNs) break;
      if (this.sendDelayNs > 0 && nowNs < this.lastSendNs + this.sendDelayNs) break;
      let order: ProbeOrder | undefined;
      while (this.retry.length > 0 && !order) {
        const r = this.retry[0]!;
        if (this.finished[r.item]) {
          this.retry.shift();
          continue;
        }
        const rld = this.rateLimitDetection === 'always' || (this.rateLimitDetection === 'multi' && this.count > 1);
        if (rld && r.tryno > this.maxTrynoSent) {
          // the first retransmission of a new try waits: a target limiting its answers gets time to recover
          this.maxTrynoSent = r.tryno;
          this.rldUntilNs = nowNs + 1000 * MS;
          break;
        }
        order = this.retry.shift()!;
      }
      if (nowNs < this.rldUntilNs) break;
      if (!order) {
        if (this.nextFresh >= this.count) break;
        order = { item: this.nextFresh++, tryno: 0 };
      }
      this.outstanding.push({ item: order.item, tryno: order.tryno, sentNs: nowNs, timedOut: false });
      this.activeCount++;
      this.lastSendNs = nowNs;
      this.sent++;
      out.push(order);
    }
    return out;
  }

  /** When the scan next needs attention if no answer comes (Infinity when done); always later than the last `due`. */
  nextWake(): number {
    if (this.done()) return Infinity;
    let t = Infinity;
    for (const p of this.outstanding) if (!p.timedOut) t = Math.min(t, p.sentNs + this.probeTimeout());
    if (this.ping) t = Math.min(t, this.ping.sentNs + this.rtt.timeout);
    else if (this.pingItem >= 0 && this.sent >= this.sentAtLastPing + 10 && this.windowFree())
      t = Math.min(t, Math.max(this.lastRcvdNs, this.lastPingNs) + PING_TIME_NS + 1);
    while (this.retry.length > 0 && this.finished[this.retry[0]!.item]) this.retry.shift();
    const more = this.retry.length > 0 || this.nextFresh < this.count;
    if (more && this.windowFree() && this.rldUntilNs > this.lastSendNs) t = Math.min(t, this.rldUntilNs);
    else if (more && this.windowFree() && this.sendDelayNs > 0) t = Math.min(t, this.lastSendNs + this.sendDelayNs);
    return t;
  }

  /**
   * Records the answer to the probe of `item` with try `tryno` (undefined
   * when the answer does not tell which try it was; the latest one is
   * taken). `adjust` false keeps the answer from touching the window and
   * the retry count (nmap's rule for "filtered" ICMP errors answering a
   * retransmission: they are often rate-limited). Returns false when the
   * item had already finished.
   */
  answer(item: number, tryno: number | undefined, nowNs: number, adjust = true): boolean {
    if (item < 0 || item >= this.count || this.finished[item]) return false;
    let probe: Outstanding | undefined;
    for (const p of this.outstanding) if (p.item === item && (tryno === undefined || p.tryno === tryno)) if (!probe || p.tryno > probe.tryno) probe = p;
    const sentNs = probe?.sentNs ?? this.lastSendNs;
    const tn = probe?.tryno ?? tryno ?? 0;
    rttSample(this.rtt, nowNs - sentNs, this.timing);
    this.lastRcvdNs = nowNs;
    if (adjust) {
      this.adjustTiming(tn, sentNs, nowNs, 1);
      if (tn > this.maxSuccessfulTryno) {
        this.maxSuccessfulTryno = Math.min(tn, this.timing.maxRetries);
        if (this.maxSuccessfulTryno > (this.timing.level >= 4 ? 4 : 3)) this.boostDelay(nowNs);
      }
    }
    this.finished[item] = 1;
    this.left--;
    for (let i = this.outstanding.length - 1; i >= 0; i--) if (this.outstanding[i]!.item === item) this.removeAt(i);
    return true;
  }

  /** The answer to the timing ping came (call when one is outstanding). */
  pingAnswered(nowNs: number): void {
    if (!this.ping) return;
    rttSample(this.rtt, nowNs - this.ping.sentNs, this.timing);
    this.lastRcvdNs = nowNs;
    this.ping = null;
    for (const w of [this.host, this.group]) w.expected++;
    this.ack(PING_MAGNIFIER);
  }

  /** Whether a timing ping waits for its answer. */
  pingOutstanding(): boolean {
    return this.ping !== null;
  }

  /** A probe sent at `sentNs` was lost: both windows shrink (once per batch of losses). */
  private dropped(sentNs: number, nowNs: number): void {
    const active = this.active();
    const div = this.timing.level <= 3 ? 1.5 : this.timing.level === 4 ? 4 / 3 : 1.25;
    if (sentNs > this.host.lastDrop) {
      this.host.cwnd = 1;
      this.host.ssthresh = Math.max(Math.trunc(active / div), 2);
      this.host.lastDrop = nowNs;
    }
    if (sentNs > this.group.lastDrop) {
      this.group.cwnd = Math.max(1, this.group.cwnd / 2);
      this.group.ssthresh = Math.max(Math.trunc(active / div), 2);
      this.group.lastDrop = nowNs;
    }
  }

  /** An answer opens both windows: slow start below the threshold, then about one probe per round trip. */
  private ack(magnifier: number): void {
    const caIncr = this.timing.level < 4 ? 1 : 2;
    for (const w of [this.host, this.group]) {
      w.received++;
      const scale = Math.min(w.expected / w.received, 50);
      if (w.cwnd < w.ssthresh) w.cwnd = Math.min(w.cwnd + magnifier * scale, w.ssthresh);
      else w.cwnd += (caIncr / w.cwnd) * scale * magnifier;
      if (w.cwnd > 300) w.cwnd = 300;
    }
  }

  private adjustTiming(tryno: number, sentNs: number, nowNs: number, magnifier: number): void {
    const drop = tryno > 0;
    for (const w of [this.host, this.group]) w.expected++;
    if (drop) this.dropped(sentNs, nowNs);
    this.ack(magnifier);
    // the delay between probes, when most answers come only to retransmissions
    if (drop && sentNs > this.lastBoostNs) this.droppedSinceBoost++;
    else this.goodSinceBoost++;
    const threshold = this.timing.level >= 4 ? 0.4 : 0.3;
    const d = this.droppedSinceBoost;
    if (d > 10 && d / (d + this.goodSinceBoost) >= threshold) this.boostDelay(nowNs);
  }

  /** Starts or doubles the delay between probes (boostScanDelay). */
  private boostDelay(nowNs: number): void {
    if (this.sendDelayNs === 0) this.sendDelayNs = (this.udp ? 50 : 5) * MS;
    else this.sendDelayNs = Math.min(this.sendDelayNs * 2, Math.max(this.sendDelayNs, 1000 * MS));
    this.sendDelayNs = Math.min(this.sendDelayNs, Math.max(this.timing.maxScanDelayNs, this.timing.scanDelayNs));
    this.lastBoostNs = nowNs;
    this.droppedSinceBoost = 0;
    this.goodSinceBoost = 0;
  }
}
