/**
 * GNU getopt_long as iptables drives it: options returned in order
 * (optstring starting with "-"), ':' for a missing argument, unique
 * prefixes of long options, "--name=value", clustered short options, and a
 * long-option table that may grow between calls as extensions load.
 */

/** A long option, as in struct option. */
export interface LongOption {
  name: string;
  hasArg: 'no' | 'required' | 'optional';
  /** Value returned for it: a short-option letter or an extension option key. */
  val: string;
}

/** What one getopt call produced. */
export interface GetoptResult {
  /**
   * The option's value; '\x01' for a non-option word, '?' for an unknown
   * option, ':' for a missing argument, null at the end.
   */
  c: string | null;
  /** The argument, if any. */
  optarg: string | undefined;
}

/** A resumable GNU getopt_long over one argv. */
export class Getopt {
  /** Index of the next argv element to scan. */
  optind = 0;
  private nextchar = '';
  private readonly shortSpec: Map<string, 'no' | 'required' | 'optional'>;

  constructor(
    readonly argv: readonly string[],
    optstring: string,
    /** The current long options; callers may replace it between calls. */
    public longopts: LongOption[],
  ) {
    let spec = SHORT_SPECS.get(optstring);
    if (!spec) {
      spec = parseShortSpec(optstring);
      SHORT_SPECS.set(optstring, spec);
    }
    this.shortSpec = spec;
  }

  /** Returns the next option. */
  next(): GetoptResult {
    const argv = this.argv;
    if (this.optind === 0) this.optind = 1;
    if (this.nextchar === '') {
      if (this.optind >= argv.length) return { c: null, optarg: undefined };
      const arg = argv[this.optind]!;
      if (arg === '--') {
        this.optind++;
        return { c: null, optarg: undefined };
      }
      if (arg[0] !== '-' || arg.length === 1) {
        this.optind++;
        return { c: '\x01', optarg: arg };
      }
      if (arg.startsWith('--')) return this.longOption(arg.slice(2));
      this.nextchar = arg.slice(1);
    }
    const c = this.nextchar[0]!;
    this.nextchar = this.nextchar.slice(1);
    const spec = this.shortSpec.get(c);
    if (this.nextchar === '') this.optind++;
    if (spec === undefined || c === ':' || c === ';') return { c: '?', optarg: undefined };
    if (spec === 'no') return { c, optarg: undefined };
    if (spec === 'optional') {
      if (this.nextchar !== '') {
        const optarg = this.nextchar;
        this.nextchar = '';
        this.optind++;
        return { c, optarg };
      }
      return { c, optarg: undefined };
    }
    if (this.nextchar !== '') {
      const optarg = this.nextchar;
      this.nextchar = '';
      this.optind++;
      return { c, optarg };
    }
    if (this.optind >= argv.length) return { c: ':', optarg: undefined };
    return { c, optarg: argv[this.optind++] };
  }

  private longOption(body: string): GetoptResult {
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let found: LongOption | undefined;
    let ambiguous = false;
    for (const o of this.longopts) {
      if (!o.name.startsWith(name)) continue;
      if (o.name.length === name.length) {
        found = o;
        ambiguous = false;
        break;
      }
      if (!found) found = o;
      else if (found.hasArg !== o.hasArg || found.val !== o.val) ambiguous = true;
    }
    this.optind++;
    if (ambiguous || !found) return { c: '?', optarg: undefined };
    if (eq >= 0) {
      if (found.hasArg === 'no') return { c: '?', optarg: undefined };
      return { c: found.val, optarg: body.slice(eq + 1) };
    }
    if (found.hasArg === 'required') {
      if (this.optind >= this.argv.length) return { c: ':', optarg: undefined };
      return { c: found.val, optarg: this.argv[this.optind++] };
    }
    return { c: found.val, optarg: undefined };
  }
}

const SHORT_SPECS = new Map<string, Map<string, 'no' | 'required' | 'optional'>>();

/** Parses a getopt optstring into option letters and their argument kinds. */
function parseShortSpec(optstring: string): Map<string, 'no' | 'required' | 'optional'> {
  const spec = new Map<string, 'no' | 'required' | 'optional'>();
  let s = optstring;
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1);
  if (s.startsWith(':')) s = s.slice(1);
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (s[i + 1] === ':') {
      if (s[i + 2] === ':') {
        spec.set(ch, 'optional');
        i += 2;
      } else {
        spec.set(ch, 'required');
        i += 1;
      }
    } else {
      spec.set(ch, 'no');
    }
  }
  return spec;
}
