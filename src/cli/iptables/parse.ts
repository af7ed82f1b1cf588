/**
 * The iptables command line parser (xshared.c do_parse and its helpers):
 * command selection, the rule's IP part, extension loading with option
 * merging, implicit protocol matches, inversion, and the checks iptables
 * makes before anything reaches the kernel.
 */
import { parseIPv4Numeric, prefixMask, type IPv4, inetAton } from '../../core/addr/ipv4.js';
import { Ip6ParseError, ip6ParseMultiple, type AddrMask6 } from '../../core/addr/ipv6.js';
import { strtoulRange } from '../../core/util/cnum.js';
import type { NameDb } from '../../core/xt/namedb.js';
import { finalOptionCheck, genericParse, optionHasArg, parseProtocol, CHAIN_PROTOS } from '../../core/xt/options.js';
import { findMatch, findTarget } from '../../core/xt/registry.js';
import {
  IPT_INV,
  paramError,
  XtError,
  type ExtensionDef,
  type Family,
  type MatchDef,
  type OptionCall,
  type RuleHeaderView,
  type TargetDef,
} from '../../core/xt/types.js';
import { Getopt, type LongOption } from './getopt.js';

/** Command bits, in the order cmd2char knows them. */
export const CMD = {
  NONE: 0,
  INSERT: 1 << 0,
  DELETE: 1 << 1,
  DELETE_NUM: 1 << 2,
  REPLACE: 1 << 3,
  APPEND: 1 << 4,
  LIST: 1 << 5,
  FLUSH: 1 << 6,
  ZERO: 1 << 7,
  NEW_CHAIN: 1 << 8,
  DELETE_CHAIN: 1 << 9,
  SET_POLICY: 1 << 10,
  RENAME_CHAIN: 1 << 11,
  LIST_RULES: 1 << 12,
  ZERO_NUM: 1 << 13,
  CHECK: 1 << 14,
} as const;

const CMD_CHARS = ['I', 'D', 'D', 'R', 'A', 'L', 'F', 'Z', 'N', 'X', 'P', 'E', 'S', 'Z', 'C'];

/** Option bits (OPT_*), in optflags order. */
export const OPT = {
  NUMERIC: 1 << 0,
  SOURCE: 1 << 1,
  DESTINATION: 1 << 2,
  PROTOCOL: 1 << 3,
  JUMP: 1 << 4,
  VERBOSE: 1 << 5,
  EXPANDED: 1 << 6,
  VIANAMEIN: 1 << 7,
  VIANAMEOUT: 1 << 8,
  LINENUMBERS: 1 << 9,
  COUNTERS: 1 << 10,
  FRAGMENT: 1 << 11,
} as const;

const OPT_CHARS = ['n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0', 'c', 'f'];
const INVERSE_FOR_OPT = [0, IPT_INV.SRCIP, IPT_INV.DSTIP, IPT_INV.PROTO, 0, 0, 0, IPT_INV.VIA_IN, IPT_INV.VIA_OUT, 0, 0, IPT_INV.FRAG];

// Legal combinations of commands and options ('x' illegal), per command bit.
const COMMANDS_V_OPTIONS: string[] = [
  /*INSERT*/ 'x     x  x  ',
  /*DELETE*/ 'x     x  xx ',
  /*DELETE_NUM*/ 'xxxxx xxxxxx',
  /*REPLACE*/ 'x     x  x  ',
  /*APPEND*/ 'x     x  x  ',
  /*LIST*/ ' xxxx  xx xx',
  /*FLUSH*/ 'xxxxx xxxxxx',
  /*ZERO*/ 'xxxxx xxxxxx',
  /*NEW_CHAIN*/ 'xxxxx xxxxxx',
  /*DEL_CHAIN*/ 'xxxxx xxxxxx',
  /*SET_POLICY*/ 'xxxxx xxxx x',
  /*RENAME*/ 'xxxxx xxxxxx',
  /*LIST_RULES*/ 'xxxxx xxxxxx',
  /*ZERO_NUM*/ 'xxxxx xxxxxx',
  /*CHECK*/ 'x     x  xx ',
];

const IPT_OPTSTRING = '-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvw::W::nt:m:xc:g:46';

/** Long options of each extension, built once (val = kind:name:id). */
const EXT_LONG_OPTS = new WeakMap<ExtensionDef, LongOption[]>();
function extensionLongOpts(def: ExtensionDef): LongOption[] {
  let opts = EXT_LONG_OPTS.get(def);
  if (!opts) {
    const prefix = def.kind === 'match' ? 'm' : 't';
    opts = def.options.map((o) => ({ name: o.name, hasArg: optionHasArg(o), val: `${prefix}:${def.name}:${o.id}` }));
    EXT_LONG_OPTS.set(def, opts);
  }
  return opts;
}

/** Merged option tables by the sequence of extensions loaded (rules repeat their shapes). */
const MERGED_OPTS = new Map<string, LongOption[]>();

const ORIGINAL_OPTS: LongOption[] = [
  ['append', 'required', 'A'],
  ['delete', 'required', 'D'],
  ['check', 'required', 'C'],
  ['insert', 'required', 'I'],
  ['replace', 'required', 'R'],
  ['list', 'optional', 'L'],
  ['list-rules', 'optional', 'S'],
  ['flush', 'optional', 'F'],
  ['zero', 'optional', 'Z'],
  ['new-chain', 'required', 'N'],
  ['delete-chain', 'optional', 'X'],
  ['rename-chain', 'required', 'E'],
  ['policy', 'required', 'P'],
  ['source', 'required', 's'],
  ['destination', 'required', 'd'],
  ['src', 'required', 's'],
  ['dst', 'required', 'd'],
  ['protocol', 'required', 'p'],
  ['in-interface', 'required', 'i'],
  ['jump', 'required', 'j'],
  ['table', 'required', 't'],
  ['match', 'required', 'm'],
  ['numeric', 'no', 'n'],
  ['out-interface', 'required', 'o'],
  ['verbose', 'no', 'v'],
  ['wait', 'optional', 'w'],
  ['wait-interval', 'optional', 'W'],
  ['exact', 'no', 'x'],
  ['fragments', 'no', 'f'],
  ['version', 'no', 'V'],
  ['help', 'optional', 'h'],
  ['line-numbers', 'no', '0'],
  ['modprobe', 'required', 'M'],
  ['set-counters', 'required', 'c'],
  ['goto', 'required', 'g'],
  ['ipv4', 'no', '4'],
  ['ipv6', 'no', '6'],
].map(([name, hasArg, val]) => ({ name: name!, hasArg: hasArg as LongOption['hasArg'], val: val! }));

/** One loaded extension within the command being parsed. */
export interface ExtInstance {
  def: ExtensionDef;
  info: any;
  xflags: number;
  /** A later -m made this instance stop taking options. */
  completed: boolean;
}

/** An address/mask pair from -s or -d. */
export interface AddrMask {
  addr: IPv4;
  mask: IPv4;
}

/** Everything do_parse produced. */
export interface ParsedCommand {
  /** CMD bits. */
  command: number;
  chain?: string;
  /** Rule number (1-based) for -I/-R/-D/-L/-S/-Z; 0 when absent. */
  rulenum: number;
  newname?: string;
  policy?: string;
  table: string;
  verbose: number;
  /** OPT bits. */
  options: number;
  /** The rule's IP part. */
  proto: number;
  invflags: number;
  fragment: boolean;
  iniface: string;
  outiface: string;
  srcs: AddrMask[];
  dsts: AddrMask[];
  /** The program's family: ip6tables fills srcs6/dsts6 instead of srcs/dsts. */
  family: Family;
  srcs6: AddrMask6[];
  dsts6: AddrMask6[];
  /** Loaded matches, in order. */
  matches: ExtInstance[];
  /** Loaded target extension, if -j named one (standard verdicts included). */
  target?: ExtInstance;
  /** Word after -j/-g. */
  jumpto: string;
  goto: boolean;
  /** -c packet and byte counters (64-bit). */
  pcnt: bigint;
  bcnt: bigint;
  /** Set when -V or -h printed something and nothing else is to be done. */
  output?: string;
}

/** Standard verdict names, which load the "standard" target. */
export const STANDARD_VERDICTS = ['ACCEPT', 'DROP', 'QUEUE', 'RETURN'];

/** Settings that differ between iptables and iptables-restore. */
export interface ParseEnv {
  names: NameDb;
  /** Parsing a line of iptables-restore. */
  restore: boolean;
  /** Default table (restore: the current *table). */
  table: string;
  /** Program name for messages. */
  program: string;
  /** Returns the help text for -h. */
  help?: (matches: ExtInstance[], target?: ExtInstance) => string;
  /** Program version string, e.g. "1.8.9 (nf_tables)". */
  version: string;
  /** ip6tables ('ipv6') or iptables ('ipv4', the default). */
  family?: Family;
}

/** xtables_parse_interface: length check and the weird-character warning. */
function parseInterface(arg: string, warn: (s: string) => void): string {
  if (arg.length + 1 > 16) throw paramError(`interface name \`${arg}' must be shorter than IFNAMSIZ (15)`);
  if (/[/ ]/.test(arg))
    warn(`Warning: weird character in interface \`${arg}' ('/' and ' ' are not allowed by the kernel).\n`);
  return arg;
}

/** xt_parse_target name checks. */
function checkTargetName(name: string): string {
  if (name.length < 1) throw paramError('Invalid target name (too short)');
  if (name.length >= 29) throw paramError(`Invalid target name \`${name}' (28 chars max)`);
  if (/\s/.test(name)) throw paramError(`Invalid target name \`${name}'`);
  return name;
}

/** Looks a target up the way xtables_find_target does (standard verdicts → "standard"). */
export function lookupTarget(name: string, family: Family = 'ipv4'): TargetDef | undefined {
  if (name === '' || STANDARD_VERDICTS.includes(name)) return findTarget('standard', family);
  return findTarget(name, family);
}

/**
 * assert_valid_chain_name (target names of the program's family may not be
 * used). A restore announces its chain lines' names first
 * (xtables_announce_chain), after which only the standard verdicts clash.
 */
export function assertValidChainName(name: string, family: Family = 'ipv4', announced = false): void {
  if (name.length >= 29) throw paramError(`chain name \`${name}' too long (must be under 29 chars)`);
  if (name[0] === '-' || name[0] === '!') throw paramError(`chain name not allowed to start with \`${name[0]}'`);
  const clash = announced ? name === '' || STANDARD_VERDICTS.includes(name) : lookupTarget(name, family) !== undefined;
  if (clash) throw paramError('chain name may not clash with target name');
  if (/\s/.test(name)) throw paramError(`Invalid chain name \`${name}'`);
}

/** Resolves one host or network name (ipparse_hostnetwork). */
function hostNetwork(names: NameDb, name: string): IPv4[] {
  const numeric = parseIPv4Numeric(name);
  if (numeric !== undefined) return [numeric];
  const net = names.networkAddr(name);
  if (net !== undefined) return [net];
  const fromHosts = names.hostAddrs(name);
  if (fromHosts.length) return fromHosts;
  const aton = inetAton(name);
  if (aton !== undefined) return [aton];
  throw paramError(`host/network \`${name}' not found`);
}


/** xtables_ipparse_multiple: comma lists, masks, names expanding to several addresses. */
export function parseAddressList(names: NameDb, spec: string): AddrMask[] {
  const out: AddrMask[] = [];
  const items = spec.split(',');
  for (let i = 0; i < items.length; i++) {
    let item = items[i]!.replace(/^\s+/, '');
    if (item.length > 255) throw paramError('Hostname too long');
    let mask = 0xffffffff;
    const slash = item.lastIndexOf('/');
    if (slash >= 0) {
      const m = item.slice(slash + 1);
      item = item.slice(0, slash);
      const dotted = parseIPv4Numeric(m, true);
      if (dotted !== undefined) mask = dotted;
      else {
        const bits = strtoulRange(m, 0, 32);
        if (bits === undefined) throw paramError(`invalid mask \`${m}' specified`);
        mask = prefixMask(bits);
      }
    }
    if (mask === 0) item = '0.0.0.0';
    for (const a of hostNetwork(names, item)) out.push({ addr: (a & mask) >>> 0, mask });
  }
  return out;
}

/** Protocols that are IPv6 extension headers (routing, fragment, AH, destination options). */
const EXT_HEADERS = [43, 44, 51, 60];

/** xtables_ip6parse_multiple over the lab's names, with iptables' messages. */
export function parseAddressList6(names: NameDb, spec: string): AddrMask6[] {
  try {
    return ip6ParseMultiple(spec, (name) => names.hostAddrs6?.(name) ?? []);
  } catch (e) {
    if (e instanceof Ip6ParseError) throw paramError(e.message);
    throw e;
  }
}

/** Parses an iptables command line (argv without the program name). */
export function parseCommand(argv: string[], env: ParseEnv, warn: (s: string) => void): ParsedCommand {
  const args = ['iptables', ...argv];
  const p: ParsedCommand = {
    command: CMD.NONE,
    rulenum: 0,
    table: env.table,
    verbose: 0,
    options: 0,
    proto: 0,
    invflags: 0,
    fragment: false,
    iniface: '',
    outiface: '',
    srcs: [],
    dsts: [],
    family: env.family ?? 'ipv4',
    srcs6: [],
    dsts6: [],
    matches: [],
    jumpto: '',
    goto: false,
    pcnt: 0n,
    bcnt: 0n,
  };
  let protocol: string | undefined;
  let protoUsed = false;
  let shost: string | undefined;
  let dhost: string | undefined;
  let tableSet = false;
  let invert = false;
  let waitSet = false;
  let waitIntervalSet = false;
  // Extension options, newest first, after the original options.
  let mergedKey = '';
  const g = new Getopt(args, IPT_OPTSTRING, ORIGINAL_OPTS);
  const family = p.family;
  const header: RuleHeaderView = {
    get proto() {
      return p.proto;
    },
    get invflags() {
      return p.invflags;
    },
    get fragment() {
      return p.fragment;
    },
  };

  const hasArg = () => g.optind < args.length && args[g.optind]![0] !== '-' && args[g.optind]![0] !== '!';
  const addCommand = (newcmd: number, othercmds: number) => {
    if (invert) throw paramError("unexpected '!' flag");
    if (p.command & ~othercmds) {
      const other = p.command & ~othercmds;
      throw paramError(`Cannot use -${cmd2char(newcmd)} with -${cmd2char(other)}`);
    }
    p.command |= newcmd;
  };
  const setOption = (option: number) => {
    const idx = Math.log2(option);
    if (p.options & option) throw paramError(`multiple -${OPT_CHARS[idx]} flags not allowed`);
    p.options |= option;
    if (invert) {
      if (!INVERSE_FOR_OPT[idx]) throw paramError(`cannot have ! before -${OPT_CHARS[idx]}`);
      p.invflags |= INVERSE_FOR_OPT[idx]!;
    }
  };
  const mergeOptions = (def: ExtensionDef) => {
    // newest extension first, right after iptables' own options (xtables_options_xfrm)
    mergedKey = `${def.kind}:${def.name}${def.family === 'ipv6' ? '/6' : ''}|${mergedKey}`;
    let merged = MERGED_OPTS.get(mergedKey);
    if (!merged) {
      merged = [...ORIGINAL_OPTS, ...extensionLongOpts(def), ...g.longopts.slice(ORIGINAL_OPTS.length)];
      MERGED_OPTS.set(mergedKey, merged);
    }
    g.longopts = merged;
  };
  // xtables warns once per extension the kernel cannot load (compat revision probe)
  const warnedMissing = new Set<ExtensionDef>();
  const warnIfMissing = (def: ExtensionDef) => {
    if (!def.kernelMissing || warnedMissing.has(def)) return;
    warnedMissing.add(def);
    warn(`Warning: Extension ${def.realName ?? def.name} revision ${def.revision ?? 0} not supported, missing kernel module?\n`);
  };
  const loadMatch = (def: MatchDef): ExtInstance => {
    warnIfMissing(def);
    const already = p.matches.some((m) => m.def === def);
    // A new instance of a match takes the options that follow from the earlier ones.
    for (const m of p.matches) if (m.def === def) m.completed = true;
    const inst: ExtInstance = { def, info: def.init(family), xflags: 0, completed: false };
    p.matches.push(inst);
    if (!already) mergeOptions(def);
    return inst;
  };
  const findProtoMatch = (): MatchDef | undefined => {
    if (protocol === undefined) return undefined;
    const num = strtoulRange(protocol, 0, 255);
    if (num !== undefined) {
      const name = protoToName(num, (p.options & OPT.NUMERIC) !== 0, env.names);
      return name ? findMatch(name, family) : undefined;
    }
    return findMatch(protocol, family);
  };
  const callOption = (inst: ExtInstance, id: number, optarg: string | undefined) => {
    const def = inst.def;
    const entry = def.options.find((o) => o.id === id)!;
    const cb: OptionCall<any> = {
      entry,
      arg: optarg,
      invert,
      extName: def.name,
      info: inst.info,
      xflags: inst.xflags,
      val: {},
      parseGeneric: () => genericParse(cb),
      nextArg: () => (g.optind < args.length ? args[g.optind++] : undefined),
      peekArg: () => args[g.optind],
      rule: header,
      names: env.names,
      table: p.table,
      warn,
      family,
    };
    if (def.parse) def.parse(cb);
    else genericParse(cb);
    inst.xflags = cb.xflags | (1 << entry.id);
  };

  for (;;) {
    const { c, optarg } = g.next();
    if (c === null) break;
    switch (c) {
      case 'A':
        addCommand(CMD.APPEND, CMD.NONE);
        p.chain = optarg;
        break;
      case 'C':
        addCommand(CMD.CHECK, CMD.NONE);
        p.chain = optarg;
        break;
      case 'D':
        addCommand(CMD.DELETE, CMD.NONE);
        p.chain = optarg;
        if (hasArg()) {
          p.rulenum = parseRuleNumber(args[g.optind++]!);
          p.command = CMD.DELETE_NUM;
        }
        break;
      case 'R':
        addCommand(CMD.REPLACE, CMD.NONE);
        p.chain = optarg;
        if (hasArg()) p.rulenum = parseRuleNumber(args[g.optind++]!);
        else throw paramError('-R requires a rule number');
        break;
      case 'I':
        addCommand(CMD.INSERT, CMD.NONE);
        p.chain = optarg;
        p.rulenum = hasArg() ? parseRuleNumber(args[g.optind++]!) : 1;
        break;
      case 'L':
        addCommand(CMD.LIST, CMD.ZERO | CMD.ZERO_NUM);
        if (optarg !== undefined) p.chain = optarg;
        else if (hasArg()) p.chain = args[g.optind++];
        if (hasArg()) p.rulenum = parseRuleNumber(args[g.optind++]!);
        break;
      case 'S':
        addCommand(CMD.LIST_RULES, CMD.ZERO | CMD.ZERO_NUM);
        if (optarg !== undefined) p.chain = optarg;
        else if (hasArg()) p.chain = args[g.optind++];
        if (hasArg()) p.rulenum = parseRuleNumber(args[g.optind++]!);
        break;
      case 'F':
        addCommand(CMD.FLUSH, CMD.NONE);
        if (optarg !== undefined) p.chain = optarg;
        else if (hasArg()) p.chain = args[g.optind++];
        break;
      case 'Z':
        addCommand(CMD.ZERO, CMD.LIST | CMD.LIST_RULES);
        if (optarg !== undefined) p.chain = optarg;
        else if (hasArg()) p.chain = args[g.optind++];
        if (hasArg()) {
          p.rulenum = parseRuleNumber(args[g.optind++]!);
          p.command = CMD.ZERO_NUM;
        }
        break;
      case 'N':
        assertValidChainName(optarg!, family);
        addCommand(CMD.NEW_CHAIN, CMD.NONE);
        p.chain = optarg;
        break;
      case 'X':
        addCommand(CMD.DELETE_CHAIN, CMD.NONE);
        if (optarg !== undefined) p.chain = optarg;
        else if (hasArg()) p.chain = args[g.optind++];
        break;
      case 'E':
        addCommand(CMD.RENAME_CHAIN, CMD.NONE);
        p.chain = optarg;
        if (hasArg()) p.newname = args[g.optind++];
        else throw paramError('-E requires old-chain-name and new-chain-name');
        break;
      case 'P':
        addCommand(CMD.SET_POLICY, CMD.NONE);
        p.chain = optarg;
        if (hasArg()) p.policy = args[g.optind++];
        else throw paramError('-P requires a chain and a policy');
        break;
      case 'h': {
        if (p.matches.length === 0 && protocol !== undefined) {
          const m = findMatch(protocol, family);
          if (m) loadMatch(m);
        }
        p.output = env.help ? env.help(p.matches, p.target) : '';
        return p;
      }
      // -p, -s, -d, -i, -o and -j take their word from argv[optind - 1], not
      // optarg: with the argument attached ("-jACCEPT", "--jump=ACCEPT") that
      // is the whole option word.
      case 'p': {
        setOption(OPT.PROTOCOL);
        protocol = args[g.optind - 1]!.toLowerCase();
        p.proto = parseProtocol(protocol, env.names);
        if (p.proto === 0 && p.invflags & IPT_INV.PROTO) throw paramError('rule would never match protocol');
        // ipv6_proto_parse: extension headers are no upper-layer protocol
        if (family === 'ipv6' && EXT_HEADERS.includes(p.proto) && !(p.invflags & IPT_INV.PROTO))
          warn(`Warning: never matched protocol: ${protocol}. use extension match instead.\n`);
        break;
      }
      case 's':
        setOption(OPT.SOURCE);
        shost = args[g.optind - 1];
        break;
      case 'd':
        setOption(OPT.DESTINATION);
        dhost = args[g.optind - 1];
        break;
      case 'g':
        setOption(OPT.JUMP);
        p.goto = true;
        p.jumpto = checkTargetName(optarg!);
        break;
      case 'j': {
        setOption(OPT.JUMP);
        p.jumpto = checkTargetName(args[g.optind - 1]!);
        const def = lookupTarget(p.jumpto, family);
        if (def) {
          warnIfMissing(def);
          p.target = { def, info: def.init(family), xflags: 0, completed: false };
          if (def.name === 'standard') p.target.info = { verdict: p.jumpto };
          mergeOptions(def);
        }
        break;
      }
      case 'i':
        if (optarg === '') throw paramError('Empty interface is likely to be undesired');
        setOption(OPT.VIANAMEIN);
        p.iniface = parseInterface(args[g.optind - 1]!, warn);
        break;
      case 'o':
        if (optarg === '') throw paramError('Empty interface is likely to be undesired');
        setOption(OPT.VIANAMEOUT);
        p.outiface = parseInterface(args[g.optind - 1]!, warn);
        break;
      case 'f':
        if (family === 'ipv6') throw paramError("`-f' is not supported in IPv6, use -m frag instead");
        setOption(OPT.FRAGMENT);
        p.fragment = true;
        break;
      case 'v':
        if (!p.verbose) setOption(OPT.VERBOSE);
        p.verbose++;
        break;
      case 'm': {
        if (invert) throw paramError('unexpected ! flag before --match');
        const def = findMatch(optarg!, family);
        // the message ends with a newline of its own, so an empty line precedes the Try line
        // xtables_find_match looks icmpv6 and ipv6-icmp up as icmp6, and names that when it fails
        const tried = optarg === 'icmpv6' || optarg === 'ipv6-icmp' ? 'icmp6' : optarg;
        if (!def) throw new XtError(`Couldn't load match \`${tried}':No such file or directory\n`, 2);
        loadMatch(def);
        break;
      }
      case 'n':
        setOption(OPT.NUMERIC);
        break;
      case 't':
        if (invert) throw paramError('unexpected ! flag before --table');
        if (env.restore && tableSet) throw paramError(`The -t option cannot be used in ${env.program}.\n`);
        p.table = optarg!;
        tableSet = true;
        break;
      case 'x':
        setOption(OPT.EXPANDED);
        break;
      case 'V':
        p.output = invert ? `Not ${env.version} ;-)\n` : `${env.program} v${env.version}\n`;
        return p;
      case 'w':
        if (env.restore) throw paramError("You cannot use `-w' from iptables-restore");
        parseWait(optarg, args, g);
        waitSet = true;
        break;
      case 'W':
        if (env.restore) throw paramError("You cannot use `-W' from iptables-restore");
        parseWaitInterval(optarg, args, g, warn);
        waitIntervalSet = true;
        break;
      case '0':
        setOption(OPT.LINENUMBERS);
        break;
      case 'M':
        break;
      case 'c': {
        setOption(OPT.COUNTERS);
        const pc = optarg!;
        const comma = pc.indexOf(',', 1);
        let bc: string | undefined = comma >= 0 ? pc.slice(comma + 1) : undefined;
        if (bc === undefined && hasArg()) bc = args[g.optind++];
        if (bc === undefined) throw paramError('-c requires packet and byte counter');
        const pn = scanULL(pc);
        if (pn === undefined) throw paramError('-c packet counter not numeric');
        const bn = scanULL(bc);
        if (bn === undefined) throw paramError('-c byte counter not numeric');
        p.pcnt = pn;
        p.bcnt = bn;
        break;
      }
      case '4':
      case '6':
        if ((c === '4') === (family === 'ipv4')) break;
        // a restore ignores a line of the other family: parsing just stops
        // there and the command adds no rule (no addresses were parsed)
        if (env.restore) return p;
        throw new XtError('', 2, true);
      case '\x01':
        if (optarg === '!') {
          if (invert) throw paramError('multiple consecutive ! not allowed');
          invert = true;
          continue;
        }
        throw new XtError(`Bad argument \`${optarg}'\n`, 2, true);
      default: {
        // Extension options and unknown ones (command_default).
        if (c.length > 2 && c[1] === ':') {
          const [kind, name, idText] = c.split(':');
          const id = Number(idText);
          if (kind === 't' && p.target && p.target.def.name === name) {
            callOption(p.target, id, optarg);
            break;
          }
          const inst = p.matches.find((m) => !m.completed && m.def.name === name);
          if (kind === 'm' && inst) {
            callOption(inst, id, optarg);
            break;
          }
        }
        const protoMatch = protocol !== undefined ? findProtoMatch() : undefined;
        const shouldLoad =
          protocol !== undefined && (protoMatch === undefined || !protoUsed) && protoMatch !== undefined;
        if (shouldLoad) {
          protoUsed = true;
          loadMatch(protoMatch!);
          g.optind--;
          continue;
        }
        if (c === ':') throw paramError(`option "${args[g.optind - 1]}" requires an argument`);
        if (c === '?') throw paramError(`unknown option "${args[g.optind - 1]}"`);
        throw paramError(`Unknown arg "${optarg ?? '(null)'}"`);
      }
    }
    invert = false;
  }

  if (p.table === 'nat' && (p.policy === 'DROP' || p.jumpto === 'DROP'))
    throw paramError('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n');
  if (!waitSet && waitIntervalSet) throw paramError('--wait-interval only makes sense with --wait\n');

  for (const m of p.matches) finishExtension(m, header, p.table, warn, family);
  if (p.target) finishExtension(p.target, header, p.table, warn, family);

  if (g.optind < args.length) throw paramError('unknown arguments found on commandline');
  if (!p.command) throw paramError('no command specified');
  if (invert) throw paramError('nothing appropriate following !');

  // ipv4_post_parse / ipv6_post_parse
  const any = family === 'ipv6' ? '::0/0' : '0.0.0.0/0';
  if (p.command & (CMD.REPLACE | CMD.INSERT | CMD.DELETE | CMD.APPEND | CMD.CHECK)) {
    if (!(p.options & OPT.DESTINATION)) dhost = any;
    if (!(p.options & OPT.SOURCE)) shost = any;
  }
  if (family === 'ipv6') {
    if (shost !== undefined) p.srcs6 = parseAddressList6(env.names, shost);
    if (dhost !== undefined) p.dsts6 = parseAddressList6(env.names, dhost);
  } else {
    if (shost !== undefined) p.srcs = parseAddressList(env.names, shost);
    if (dhost !== undefined) p.dsts = parseAddressList(env.names, dhost);
  }
  const nsrc = family === 'ipv6' ? p.srcs6.length : p.srcs.length;
  const ndst = family === 'ipv6' ? p.dsts6.length : p.dsts.length;
  if ((nsrc > 1 || ndst > 1) && p.invflags & (IPT_INV.SRCIP | IPT_INV.DSTIP))
    throw paramError('! not allowed with multiple source or destination IP addresses');

  if (p.command === CMD.REPLACE && (nsrc !== 1 || ndst !== 1))
    throw paramError('Replacement rule does not specify a unique address');

  genericOptCheck(p.command, p.options);

  if (p.chain !== undefined && p.chain.length >= 29)
    throw paramError(`chain name \`${p.chain}' too long (must be under 29 chars)`);

  if (p.command & (CMD.APPEND | CMD.DELETE | CMD.DELETE_NUM | CMD.CHECK | CMD.INSERT | CMD.REPLACE)) {
    if ((p.chain === 'PREROUTING' || p.chain === 'INPUT') && p.options & OPT.VIANAMEOUT)
      throw paramError(`Can't use -o with ${p.chain}\n`);
    if ((p.chain === 'POSTROUTING' || p.chain === 'OUTPUT') && p.options & OPT.VIANAMEIN)
      throw paramError(`Can't use -i with ${p.chain}\n`);
  }
  return p;
}

function finishExtension(inst: ExtInstance, rule: RuleHeaderView, table: string, warn: (s: string) => void, family: Family): void {
  const def = inst.def;
  def.final?.({ extName: def.name, info: inst.info, xflags: inst.xflags, rule, table, warn, family });
  if (!def.oldStyle) finalOptionCheck(def.name, inst.xflags, def.options);
}

function cmd2char(option: number): string {
  let i = 0;
  for (let o = option; o > 1; o >>>= 1) i++;
  return CMD_CHARS[i]!;
}

function parseRuleNumber(rule: string): number {
  const n = strtoulRange(rule, 1, 2147483647);
  if (n === undefined) throw paramError(`Invalid rule number \`${rule}'`);
  return n;
}

function genericOptCheck(command: number, options: number): void {
  for (let i = 0; i < OPT_CHARS.length; i++) {
    let legal = 0;
    for (let j = 0; j < COMMANDS_V_OPTIONS.length; j++) {
      if (!(command & (1 << j))) continue;
      if (!(options & (1 << i))) continue;
      if (COMMANDS_V_OPTIONS[j]![i] !== 'x') legal = 1;
      else if (legal === 0) legal = -1;
    }
    if (legal === -1) throw paramError(`Illegal option \`-${OPT_CHARS[i]}' with this command`);
  }
}

/** proto_to_name: chain protocol names first, then /etc/protocols unless numeric. */
export function protoToName(proto: number, nolookup: boolean, names: NameDb): string | undefined {
  const known = CHAIN_PROTOS.find(([, n]) => n === proto);
  if (known) return known[0];
  if (proto && !nolookup) return names.protoName(proto);
  return undefined;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * sscanf("%llu") (strtoull): leading whitespace, optional sign, decimal
 * digits; a value beyond 64 bits saturates, a minus sign negates modulo 2^64.
 */
function scanULL(s: string): bigint | undefined {
  const m = /^\s*([+-]?)(\d+)/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[2]!);
  if (v > U64_MAX) return U64_MAX;
  return m[1] === '-' ? ((1n << 64n) - v) & U64_MAX : v;
}

function parseWait(optarg: string | undefined, args: string[], g: Getopt): void {
  let arg = optarg;
  if (arg === undefined && g.optind < args.length && args[g.optind]![0] !== '-' && args[g.optind]![0] !== '!')
    arg = args[g.optind++];
  if (arg !== undefined && !/^\s*[+-]?\d/.test(arg)) throw paramError('wait seconds not numeric');
}

function parseWaitInterval(optarg: string | undefined, args: string[], g: Getopt, warn: (s: string) => void): void {
  let arg = optarg;
  if (arg === undefined && g.optind < args.length && args[g.optind]![0] !== '-' && args[g.optind]![0] !== '!')
    arg = args[g.optind++];
  if (arg === undefined) throw paramError('wait interval value required');
  // sscanf("%u"): strtoul's value cut to 32 bits
  const scanned = scanULL(arg);
  if (scanned === undefined) throw paramError('wait interval not numeric');
  const usec = scanned & 0xffffffffn;
  if (usec > 999999n) throw paramError(`too long usec wait ${usec} > 999999 usec`);
  warn('Ignoring deprecated --wait-interval option.\n');
}
