/**
 * GNU getopt_long (glibc 2.36) as the iptables tools drive it: the three
 * orderings (optstring starting with "-": every word returned in order; "+":
 * stop at the first non-option; otherwise non-options are permuted to the
 * end), clustered short options, unique prefixes of long options,
 * "--name=value", "--" ending the options, and glibc's own error messages
 * (opterr), which are printed unless the optstring (after its ordering
 * character) starts with ':'. The long-option table may grow between calls
 * as extensions load.
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
   * The option's value; '\x01' for a non-option word (ordering "-"), '?' for
   * an unknown or ambiguous option, ':' for a missing argument when the
   * optstring starts with ':', null at the end.
   */
  c: string | null;
  /** The argument, if any (glibc resets optarg to NULL at every call). */
  optarg: string | undefined;
}

type ArgKind = 'no' | 'required' | 'optional';

/** A resumable GNU getopt_long over one argv. */
export class Getopt {
  /** Index of the next argv element to scan. */
  optind = 0;
  /** The words; permuted in place with the default ordering, like glibc does. */
  readonly argv: string[];
  /** Error messages glibc printed to stderr so far (empty when printing is off). */
  errors = '';
  private nextchar = '';
  private firstNonopt = 1;
  private lastNonopt = 1;
  private readonly ordering: 'permute' | 'in-order' | 'require-order';
  private readonly shortSpec: Map<string, ArgKind>;
  private readonly printErrors: boolean;
  /** Whether a missing argument returns ':' rather than '?'. */
  private readonly colonForMissing: boolean;

  constructor(
    argv: readonly string[],
    optstring: string,
    /** The current long options; callers may replace it between calls. */
    public longopts: LongOption[],
    /** glibc's opterr: print error messages (still off when the optstring starts with ':'). */
    opterr = true,
  ) {
    this.argv = [...argv];
    let s = optstring;
    if (s.startsWith('-')) this.ordering = 'in-order';
    else if (s.startsWith('+')) this.ordering = 'require-order';
    else this.ordering = 'permute';
    if (this.ordering !== 'permute') s = s.slice(1);
    this.colonForMissing = s.startsWith(':');
    this.printErrors = opterr && !this.colonForMissing;
    let spec = SHORT_SPECS.get(s);
    if (!spec) {
      spec = parseShortSpec(s);
      SHORT_SPECS.set(s, spec);
    }
    this.shortSpec = spec;
  }

  private error(msg: string): void {
    if (this.printErrors) this.errors += `${this.argv[0]}: ${msg}\n`;
  }

  private isNonOption(i: number): boolean {
    const a = this.argv[i]!;
    return a[0] !== '-' || a.length === 1;
  }

  /** Moves the skipped non-options [firstNonopt, lastNonopt) after the options up to optind (glibc exchange). */
  private exchange(): void {
    const nonopts = this.argv.slice(this.firstNonopt, this.lastNonopt);
    const opts = this.argv.slice(this.lastNonopt, this.optind);
    this.argv.splice(this.firstNonopt, this.optind - this.firstNonopt, ...opts, ...nonopts);
    this.firstNonopt += this.optind - this.lastNonopt;
    this.lastNonopt = this.optind;
  }

  /** Returns the next option. */
  next(): GetoptResult {
    const argv = this.argv;
    const argc = argv.length;
    if (this.optind === 0) {
      this.optind = 1;
      this.firstNonopt = this.lastNonopt = 1;
      this.nextchar = '';
    }
    if (this.nextchar === '') {
      if (this.lastNonopt > this.optind) this.lastNonopt = this.optind;
      if (this.firstNonopt > this.optind) this.firstNonopt = this.optind;
      if (this.ordering === 'permute') {
        if (this.firstNonopt !== this.lastNonopt && this.lastNonopt !== this.optind) this.exchange();
        else if (this.lastNonopt !== this.optind) this.firstNonopt = this.optind;
        while (this.optind < argc && this.isNonOption(this.optind)) this.optind++;
        this.lastNonopt = this.optind;
      }
      if (this.optind !== argc && argv[this.optind] === '--') {
        this.optind++;
        if (this.firstNonopt !== this.lastNonopt && this.lastNonopt !== this.optind) this.exchange();
        else if (this.firstNonopt === this.lastNonopt) this.firstNonopt = this.optind;
        this.lastNonopt = argc;
        this.optind = argc;
      }
      if (this.optind === argc) {
        if (this.firstNonopt !== this.lastNonopt) this.optind = this.firstNonopt;
        return { c: null, optarg: undefined };
      }
      if (this.isNonOption(this.optind)) {
        if (this.ordering === 'require-order') return { c: null, optarg: undefined };
        return { c: '\x01', optarg: argv[this.optind++] };
      }
      const arg = argv[this.optind]!;
      if (arg[1] === '-') return this.longOption(arg.slice(2));
      this.nextchar = arg.slice(1);
    }
    const c = this.nextchar[0]!;
    this.nextchar = this.nextchar.slice(1);
    const spec = this.shortSpec.get(c);
    if (this.nextchar === '') this.optind++;
    if (spec === undefined || c === ':' || c === ';') {
      this.error(`invalid option -- '${c}'`);
      return { c: '?', optarg: undefined };
    }
    if (spec === 'no') return { c, optarg: undefined };
    if (spec === 'optional') {
      let optarg: string | undefined;
      if (this.nextchar !== '') {
        optarg = this.nextchar;
        this.optind++;
      }
      this.nextchar = '';
      return { c, optarg };
    }
    if (this.nextchar !== '') {
      const optarg = this.nextchar;
      this.nextchar = '';
      this.optind++;
      return { c, optarg };
    }
    if (this.optind === argc) {
      this.error(`option requires an argument -- '${c}'`);
      return { c: this.colonForMissing ? ':' : '?', optarg: undefined };
    }
    return { c, optarg: argv[this.optind++] };
  }

  /** process_long_option: exact names first, then unique abbreviations. */
  private longOption(body: string): GetoptResult {
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let found = this.longopts.find((o) => o.name === name);
    if (!found) {
      const ambiguous: LongOption[] = [];
      for (const o of this.longopts) {
        if (!o.name.startsWith(name)) continue;
        if (!found) found = o;
        else if (found.hasArg !== o.hasArg || found.val !== o.val) {
          if (ambiguous.length === 0) ambiguous.push(found);
          ambiguous.push(o);
        }
      }
      if (ambiguous.length) {
        this.error(`option '--${body}' is ambiguous; possibilities:${ambiguous.map((o) => ` '--${o.name}'`).join('')}`);
        this.optind++;
        return { c: '?', optarg: undefined };
      }
    }
    if (!found) {
      this.error(`unrecognized option '--${body}'`);
      this.optind++;
      return { c: '?', optarg: undefined };
    }
    this.optind++;
    if (eq >= 0) {
      if (found.hasArg === 'no') {
        this.error(`option '--${found.name}' doesn't allow an argument`);
        return { c: '?', optarg: undefined };
      }
      return { c: found.val, optarg: body.slice(eq + 1) };
    }
    if (found.hasArg === 'required') {
      if (this.optind >= this.argv.length) {
        this.error(`option '--${found.name}' requires an argument`);
        return { c: this.colonForMissing ? ':' : '?', optarg: undefined };
      }
      return { c: found.val, optarg: this.argv[this.optind++] };
    }
    return { c: found.val, optarg: undefined };
  }
}

const SHORT_SPECS = new Map<string, Map<string, ArgKind>>();

/** Parses a getopt optstring (without its ordering character) into option letters and their argument kinds. */
function parseShortSpec(optstring: string): Map<string, ArgKind> {
  const spec = new Map<string, ArgKind>();
  const s = optstring.startsWith(':') ? optstring.slice(1) : optstring;
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
