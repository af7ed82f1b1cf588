/**
 * The LED target: blinks a LED trigger named "netfilter-ID" on matching
 * packets. The reference kernel has no xt_LED module, so every rule is
 * refused with ENOENT once it reaches the kernel.
 */
import { defineTarget, paramError } from '../index-types.js';
import { xtStrtoul } from '../match/rate-common.js';
import { RATE_HELP } from '../rate-help.js';

/** xt_led_info. */
export interface LedInfo {
  /** Trigger name, "netfilter-" followed by the given id. */
  id: string;
  alwaysBlink: number;
  /** Milliseconds the LED stays on; 0xffffffff for "inf". */
  delay: number;
}

const PREFIX = 'netfilter-';
/** sizeof(xt_led_info.id). */
const ID_SIZE = 27;
const O = { ID: 0, DELAY: 1, ALWAYS_BLINK: 2 } as const;

/** The id with quotes and backslashes escaped, in double quotes. */
function quotedId(info: LedInfo): string {
  const id = info.id.slice(PREFIX.length);
  return `"${id.replace(/["\\]/g, (c) => '\\' + c)}"`;
}

/** The LED target extension. */
export const LED = defineTarget<LedInfo>({
  name: 'LED',
  kernelMissing: true,
  help: () => RATE_HELP['LED']!,
  options: [
    { name: 'led-trigger-id', id: O.ID, type: 'string', mandatory: true, max: ID_SIZE - PREFIX.length - 1 },
    { name: 'led-delay', id: O.DELAY, type: 'string' },
    { name: 'led-always-blink', id: O.ALWAYS_BLINK, type: 'none' },
  ],
  init: () => ({ id: '', alwaysBlink: 0, delay: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.ID:
        info.id = (PREFIX + cb.arg!).slice(0, ID_SIZE - 1);
        break;
      case O.DELAY: {
        const arg = cb.arg!;
        if (arg.slice(0, 3).toLowerCase() === 'inf') {
          info.delay = 0xffffffff;
          break;
        }
        const v = xtStrtoul(arg, 0n, 0xffffffffn);
        if (!v || v.end !== arg.length) throw paramError('Delay value must be within range 0..4294967295');
        info.delay = Number(v.value);
        break;
      }
      case O.ALWAYS_BLINK:
        info.alwaysBlink = 1;
        break;
    }
  },
  // xt_LED is not built into the reference kernel.
  check: () => ({ errno: 'ENOENT' }),
  print(info) {
    let s = ` led-trigger-id:${quotedId(info)}`;
    s += info.delay === 0xffffffff ? ' led-delay:inf' : ` led-delay:${info.delay | 0}ms`;
    if (info.alwaysBlink) s += ' led-always-blink';
    return s;
  },
  save(info) {
    let s = ` --led-trigger-id ${quotedId(info)}`;
    const delay = info.delay | 0;
    if (delay > 0) s += ` --led-delay ${delay}`;
    else if (delay === -1) s += ' --led-delay inf';
    if (info.alwaysBlink) s += ' --led-always-blink';
    return s;
  },
});
