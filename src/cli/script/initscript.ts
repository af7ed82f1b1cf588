/**
 * The iptables init script of CentOS/RHEL (iptables-services,
 * /usr/libexec/iptables/iptables.init; /etc/init.d/iptables on CentOS 6),
 * acting on the lab machine: its actions, messages and exit statuses.
 *
 * Status words come from RHEL's /etc/init.d/functions as printed when the
 * console is not a terminal (BOOTUP=serial): the text, then `[  OK  ]`,
 * `[FAILED]` or `[WARNING]` followed by a carriage return, then a newline.
 *
 * The kernel's list of loaded tables (/proc/net/ip_tables_names, newest
 * first) is the lab's tables, latest created first; the module is always
 * loaded. The subsystem lock is the machine file /var/lock/subsys/iptables,
 * shared by `service` and the systemd unit. Settings are read from
 * /etc/sysconfig/iptables-config when the machine has one.
 *
 * This is the CentOS 7 script. CentOS 6's also unloads the netfilter modules
 * on stop (one more line, "iptables: Unloading modules:"); the lab has no
 * modules. On a terminal the real functions move `[  OK  ]` to column 60 in
 * colour, which is why the tutorials show "...iptables:[  OK  ]": the
 * 61-character message loses its last space under the bracket.
 */
import { chmodSync, existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { labFile, loadState, writeFileAtomic } from '../lab/store.js';
import type { Exec, Output } from './io.js';

/** Where the init script keeps the rules. */
export const IPTABLES_DATA = '/etc/sysconfig/iptables';
const FALLBACK_DATA = `${IPTABLES_DATA}.fallback`;
const CONFIG = '/etc/sysconfig/iptables-config';
const SUBSYS_LOCK = '/var/lock/subsys/iptables';

/** The rules iptables-services installs as /etc/sysconfig/iptables (CentOS 7 default). */
export const DEFAULT_SYSCONFIG_IPTABLES = `# Default rules of the iptables service: replies, ping, loopback and new SSH
# connections are let in, everything else is refused.
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
COMMIT
`;

/** functions' status words in serial mode (each ends with a carriage return). */
export const OK = '[  OK  ]\r';
/** The failure word of /etc/init.d/functions in serial mode. */
export const FAILED = '[FAILED]\r';
const WARNING = '[WARNING]\r';

const USAGE = 'Usage: iptables {start|stop|reload|restart|condrestart|status|panic|save}\n';

/** What the init script needs: the lab, a way to run iptables there, and where to write. */
export interface InitEnv {
  lab: string;
  exec: Exec;
  out: Output;
}

/** Settings of /etc/sysconfig/iptables-config with the script's defaults. */
interface Config {
  modules: string[];
  saveOnStop: boolean;
  saveOnRestart: boolean;
  saveCounter: boolean;
  statusNumeric: boolean;
  statusVerbose: boolean;
  statusLineNumbers: boolean;
  sysctlLoadList: string;
}

/** Reads the KEY="value" lines of iptables-config (the script sources it). */
function readConfig(lab: string): Config {
  const v: Record<string, string> = {
    IPTABLES_MODULES: '',
    IPTABLES_SAVE_ON_STOP: 'no',
    IPTABLES_SAVE_ON_RESTART: 'no',
    IPTABLES_SAVE_COUNTER: 'no',
    IPTABLES_STATUS_NUMERIC: 'yes',
    IPTABLES_STATUS_VERBOSE: 'no',
    IPTABLES_STATUS_LINENUMBERS: 'yes',
    IPTABLES_SYSCTL_LOAD_LIST: '',
  };
  let text = '';
  try {
    text = readFileSync(labFile(lab, CONFIG), 'utf8');
  } catch {
    /* no config file: defaults */
  }
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*(?:#.*)?$/.exec(line);
    if (m) v[m[1]!] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return {
    modules: v['IPTABLES_MODULES']!.split(/\s+/).filter((s) => s !== ''),
    saveOnStop: v['IPTABLES_SAVE_ON_STOP'] === 'yes',
    saveOnRestart: v['IPTABLES_SAVE_ON_RESTART'] === 'yes',
    saveCounter: v['IPTABLES_SAVE_COUNTER'] === 'yes',
    statusNumeric: v['IPTABLES_STATUS_NUMERIC'] === 'yes',
    statusVerbose: v['IPTABLES_STATUS_VERBOSE'] === 'yes',
    statusLineNumbers: v['IPTABLES_STATUS_LINENUMBERS'] === 'yes',
    sysctlLoadList: v['IPTABLES_SYSCTL_LOAD_LIST']!.trim(),
  };
}

/** The tables the kernel has, as /proc/net/ip_tables_names lists them (newest first). */
export function loadedTables(lab: string): string[] {
  return Object.keys(loadState(lab).ruleset.tables).reverse();
}

function isFile(lab: string, path: string): boolean {
  try {
    return statSync(labFile(lab, path)).isFile();
  } catch {
    return false;
  }
}

/** Built-in chains each table's policy is set on, in the script's order. */
const POLICY_CHAINS: Record<string, string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  filter: ['INPUT', 'OUTPUT', 'FORWARD'],
  nat: ['PREROUTING', 'POSTROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'POSTROUTING', 'INPUT', 'OUTPUT', 'FORWARD'],
};

/** One run of the script: its settings and the tables loaded when it began. */
class InitScript {
  private readonly cfg: Config;
  private readonly tables: string[];

  constructor(private readonly env: InitEnv) {
    this.cfg = readConfig(env.lab);
    this.tables = loadedTables(env.lab);
  }

  private say(text: string): void {
    this.env.out.stdout(text);
  }

  /** Runs iptables (or another program); its output goes through. */
  private async run(argv: string[], stdin?: string): Promise<number> {
    const r = await this.env.exec(argv, { stdin, write: this.env.out.sinkForChild() });
    this.env.out.pass(r);
    return r.status;
  }

  private async restore(path: string): Promise<number> {
    return this.run(['iptables-restore', ...(this.cfg.saveCounter ? ['-c'] : [])], readFileSync(labFile(this.env.lab, path), 'utf8'));
  }

  private async setPolicy(policy: string): Promise<number> {
    const tables = loadedTables(this.env.lab);
    if (tables.length === 0) return 1;
    this.say(`iptables: Setting chains to policy ${policy}: `);
    let ret = 0;
    for (const t of tables) {
      this.say(`${t} `);
      if (t === 'security') continue;
      const chains = POLICY_CHAINS[t];
      if (!chains) {
        ret++;
        continue;
      }
      for (const c of chains) {
        if ((await this.run(['iptables', '-t', t, '-P', c, policy])) !== 0) {
          ret++;
          break;
        }
      }
    }
    this.say(`${ret === 0 ? OK : FAILED}\n`);
    return ret;
  }

  private async flushAndDelete(): Promise<number> {
    if (this.tables.length === 0) return 1;
    this.say('iptables: Flushing firewall rules: ');
    let ret = 0;
    for (const t of this.tables) {
      for (const op of ['-F', '-X', '-Z']) ret += await this.run(['iptables', '-t', t, op]);
    }
    this.say(`${ret === 0 ? OK : FAILED}\n`);
    return ret;
  }

  /** The optional steps after loading rules: helper modules and sysctl settings. */
  private extras(): void {
    if (this.cfg.modules.length > 0) this.say(`iptables: Loading additional modules: ${this.cfg.modules.map((m) => `${m} `).join('')}${OK}\n`);
    if (this.cfg.sysctlLoadList !== '') this.say(`Loading sysctl settings: ${OK}\n`);
  }

  async start(): Promise<number> {
    if (!isFile(this.env.lab, IPTABLES_DATA)) {
      this.say(`iptables: No config file.${WARNING}\n`);
      return 6;
    }
    this.say('iptables: Applying firewall rules: ');
    if ((await this.restore(IPTABLES_DATA)) === 0) {
      this.say(`${OK}\n`);
    } else {
      this.say(`${FAILED}\n`);
      if (!isFile(this.env.lab, FALLBACK_DATA)) return 1;
      this.say('iptables: Applying firewall fallback rules: ');
      if ((await this.restore(FALLBACK_DATA)) !== 0) {
        this.say(`${FAILED}\n`);
        return 1;
      }
      this.say(`${OK}\n`);
    }
    this.extras();
    writeFileAtomic(labFile(this.env.lab, SUBSYS_LOCK), '');
    return 0;
  }

  async stop(): Promise<number> {
    let ret = await this.setPolicy('ACCEPT');
    ret += await this.flushAndDelete();
    removeLock(this.env.lab);
    return ret;
  }

  async save(): Promise<number> {
    if (this.tables.length === 0) {
      this.say(`iptables: Nothing to save.${WARNING}\n`);
      return 6;
    }
    this.say(`iptables: Saving firewall rules to ${IPTABLES_DATA}: `);
    const r = await this.env.exec(['iptables-save', ...(this.cfg.saveCounter ? ['-c'] : [])]);
    let ret = r.status === 0 && r.stdout.length > 0 ? 0 : 1;
    if (ret === 0) {
      try {
        const data = labFile(this.env.lab, IPTABLES_DATA);
        if (existsSync(data)) {
          writeFileAtomic(`${data}.save`, readFileSync(data, 'utf8'));
          chmodSync(`${data}.save`, 0o600);
        }
        writeFileAtomic(data, r.stdout);
        chmodSync(data, 0o600);
      } catch {
        ret = 1;
      }
    }
    this.say(`${ret === 0 ? OK : FAILED}\n`);
    return ret;
  }

  async status(): Promise<number> {
    if (!existsSync(labFile(this.env.lab, SUBSYS_LOCK)) && this.tables.length === 0) {
      this.say('iptables: Firewall is not running.\n');
      return 3;
    }
    if (this.tables.length === 0) {
      this.say('iptables: Firewall is not configured. \n');
      return 3;
    }
    const flags = [
      ...(this.cfg.statusNumeric ? ['-n'] : []),
      ...(this.cfg.statusVerbose ? ['--verbose'] : []),
      ...(this.cfg.statusLineNumbers ? ['--line-numbers'] : []),
    ];
    for (const t of this.tables) {
      this.say(`Table: ${t}\n`);
      if ((await this.run(['iptables', '-t', t, '--list', ...flags])) === 0) this.say('\n');
    }
    return 0;
  }

  async reload(): Promise<number> {
    if (!isFile(this.env.lab, IPTABLES_DATA)) {
      this.say(`iptables: No config file.${WARNING}\n`);
      return 6;
    }
    this.say('iptables: Trying to reload firewall rules: ');
    if ((await this.restore(IPTABLES_DATA)) !== 0) {
      this.say(`${FAILED}\nFirewall rules are not changed.\n`);
      return 1;
    }
    this.say(`${OK}\n`);
    this.extras();
    return 0;
  }

  async restart(): Promise<number> {
    if (this.cfg.saveOnRestart) await this.save();
    await this.stop();
    return this.start();
  }

  /** The script's `case "$1"`. */
  async main(action: string | undefined): Promise<number> {
    const locked = existsSync(labFile(this.env.lab, SUBSYS_LOCK));
    switch (action) {
      case 'start':
        return locked ? 0 : this.start();
      case 'stop':
        if (this.cfg.saveOnStop) await this.save();
        return this.stop();
      case 'restart':
      case 'force-reload':
        return this.restart();
      case 'reload':
        return locked ? this.reload() : 1;
      case 'condrestart':
      case 'try-restart':
        return locked ? this.restart() : 0;
      case 'status':
        return this.status();
      case 'panic':
        return this.setPolicy('DROP');
      case 'save':
        return this.save();
      default:
        this.say(USAGE);
        return 2;
    }
  }
}

function removeLock(lab: string): void {
  try {
    unlinkSync(labFile(lab, SUBSYS_LOCK));
  } catch {
    /* not there */
  }
}

/** Runs `iptables.init ARGS` on the lab; returns its exit status (0-255). */
export async function runIptablesInit(args: string[], env: InitEnv): Promise<number> {
  const status = await new InitScript(env).main(args[0]);
  return status & 0xff;
}
