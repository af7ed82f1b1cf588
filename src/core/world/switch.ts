/**
 * A wire with more than two ends behaves as a learning Ethernet switch:
 * it learns which end each source MAC address is behind, sends a frame
 * for a known unicast address to that end only, and floods the rest
 * (broadcasts, multicasts, unknown addresses) to every other end.
 */

/** The forwarding table of one switched wire. */
export class SwitchTable {
  private readonly fdb = new Map<string, number>();

  /** The ends (indices) a frame entering at end `from` leaves by. */
  forward(from: number, frame: Uint8Array, ends: number): number[] {
    if (frame.length < 14) return [];
    const src = macKey(frame, 6);
    if ((frame[6]! & 1) === 0) this.fdb.set(src, from);
    const dst = macKey(frame, 0);
    const known = (frame[0]! & 1) === 0 ? this.fdb.get(dst) : undefined;
    if (known !== undefined) return known === from ? [] : [known];
    const out: number[] = [];
    for (let i = 0; i < ends; i++) if (i !== from) out.push(i);
    return out;
  }
}

function macKey(f: Uint8Array, off: number): string {
  let s = '';
  for (let i = off; i < off + 6; i++) s += f[i]!.toString(16).padStart(2, '0');
  return s;
}
