/**
 * ntpd (ntp 4.2.6 as CentOS 7 ships it) on UDP 123: the wildcard socket
 * and one per local address, as ntpd binds them. It answers client-mode
 * (3) requests with a server-mode (4) packet. The lab has no time servers
 * to follow, so the daemon is never synchronised: leap indicator 3
 * (alarm), stratum 16, reference id INIT, as a real ntpd says before it
 * has a source. Control queries (ntpq, ntpdc) are not answered.
 */
import type { Program, ProgramBody, ProgramContext } from '../api.js';
import { runDaemon, type UdpService } from './serve.js';

/** Seconds from 1900 (NTP's era) to 1970. */
const NTP_EPOCH_OFFSET = 2_208_988_800;

/** Writes an NTP timestamp of `sec` (Unix seconds with fraction) at `at`. */
function putTimestamp(out: Uint8Array, at: number, sec: number): void {
  const whole = Math.floor(sec) + NTP_EPOCH_OFFSET;
  const frac = Math.floor((sec - Math.floor(sec)) * 2 ** 32);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(at, whole >>> 0);
  v.setUint32(at + 4, frac >>> 0);
}

/** The answer to an NTP packet received at `nowSec` (null: none). */
export function ntpAnswer(req: Uint8Array, nowSec: number): Uint8Array | null {
  if (req.length < 48 || (req[0]! & 7) !== 3) return null;
  const version = (req[0]! >> 3) & 7;
  const out = new Uint8Array(48);
  out[0] = (3 << 6) | (version << 3) | 4;
  out[1] = 16;
  out[2] = req[2]!;
  out[3] = 0xe9; // precision 2^-23
  out.set([0x49, 0x4e, 0x49, 0x54], 12); // INIT
  out.set(req.subarray(40, 48), 24);
  putTimestamp(out, 32, nowSec);
  putTimestamp(out, 40, nowSec);
  return out;
}

/** The ntpd program. */
export const ntpd: Program = function* (ctx: ProgramContext): ProgramBody {
  const answer = (data: Uint8Array): Uint8Array | null => ntpAnswer(data, ctx.wallSec());
  const udp: UdpService[] = [{ addr: 0, port: 123, answer }];
  for (const l of ctx.machine.net.links) {
    if (!l.up) continue;
    for (const a of l.inet) udp.push({ addr: a.local >>> 0, port: 123, answer, optional: true });
  }
  return yield* runDaemon(ctx, {
    tcp: [],
    udp,
    bindError: () => 'unable to create socket on 0.0.0.0 (0) for 0.0.0.0#123\n',
    failStatus: 1,
  });
};
