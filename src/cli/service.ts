/**
 * `nflab service` and `nflab systemctl`: starting, stopping, saving and
 * checking the iptables service of the lab machine, as on CentOS/RHEL with
 * iptables-services.
 *
 * `service NAME ACTION` behaves like CentOS 6's /sbin/service: it runs the
 * init script in the foreground, so its messages ("iptables: Applying
 * firewall rules: [  OK  ]") and `status` tables are printed. (CentOS 7's
 * service redirects most actions to systemctl; `save` runs the same script
 * there.) `systemctl VERB iptables` is CentOS 7's systemd 219 with the
 * iptables.service unit: quiet on success, the init script's messages going
 * to the journal. Both share the init script's lock file and the rules file
 * /etc/sysconfig/iptables of the machine.
 *
 * The daemons (sshd, httpd, nginx, vsftpd, mysqld, named, postfix,
 * dovecot, ntpd, squid) have CentOS 6 init scripts: `service sshd start`
 * prints "Starting sshd: [  OK  ]" and starts the daemon in the namespace
 * the command runs in; start does nothing when it runs already, stop
 * nothing when it does not, and status reports "NAME (pid  PID) is
 * running..." or "NAME is stopped". reload (for daemons that have it)
 * restarts the daemon so that it reads its files again; its pid changes,
 * where the real daemon keeps it.
 */
import { DAEMON_UNITS, initScriptUnit, type DaemonUnit } from '../core/programs/daemons/index.js';
import { LabDamaged } from './lab/store.js';
import { FAILED, OK, runIptablesInit } from './script/initscript.js';
import { Output, type CommandResult, type LabContext } from './script/io.js';
import { daemonRunning, startDaemon, stopDaemon, systemctl } from './script/systemd.js';

const USAGE = 'Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n';

/** Services with an init script on the machine besides the daemons'. */
const SERVICES = new Set(['iptables']);

/** Whether the machine has an init script of that name. */
function hasService(name: string): boolean {
  return SERVICES.has(name) || initScriptUnit(name) !== undefined;
}

/** A daemon's CentOS 6 init script: `/etc/init.d/NAME ACTION`. */
function runDaemonInit(u: DaemonUnit, args: string[], ctx: LabContext, out: Output): number {
  const netns = ctx.netns ?? '';
  const start = (): number => {
    out.stdout(u.startLabel);
    const r = startDaemon(ctx.lab, netns, u);
    out.stdout(r.printed);
    out.stdout(`${r.running ? OK : FAILED}\n`);
    return r.running ? 0 : 1;
  };
  const stop = (): number => {
    out.stdout(u.stopText);
    const n = stopDaemon(ctx.lab, u);
    out.stdout(`${n > 0 ? OK : FAILED}\n`);
    return n > 0 ? 0 : 1;
  };
  const running = daemonRunning(ctx.lab, u);
  switch (args[0]) {
    case 'start':
      return running ? 0 : start();
    case 'stop':
      return running ? stop() : 0;
    case 'restart':
      stop();
      return start();
    case 'condrestart':
    case 'try-restart':
      if (!running) return 0;
      stop();
      return start();
    case 'reload':
    case 'force-reload': {
      if (!u.reload) break;
      // the scripts' reload signals the daemon (HUP) when it runs, else exits 7; the lab restarts it to reread its files
      if (!running) return 7;
      out.stdout(`Reloading ${u.initScript}: `);
      stopDaemon(ctx.lab, u);
      const r = startDaemon(ctx.lab, netns, u);
      out.stdout(r.printed);
      out.stdout(`${r.running ? OK : FAILED}\n`);
      return r.running ? 0 : 1;
    }
    case 'status':
      if (running) {
        out.stdout(`${u.statusName} (pid  ${running.pid}) is running...\n`);
        return 0;
      }
      out.stdout(`${u.statusName} is stopped\n`);
      return 3;
  }
  out.stdout(`Usage: /etc/init.d/${u.initScript} {start|stop|restart|${u.reload ? 'reload|force-reload|' : ''}condrestart|try-restart|status}\n`);
  return 2;
}

/** Runs `fn`, turning a damaged lab into a message rather than a crash. */
async function guarded(out: Output, fn: () => Promise<number>): Promise<CommandResult> {
  try {
    return out.result(await fn());
  } catch (e) {
    if (!(e instanceof LabDamaged)) throw e;
    out.stderr(e.message + '\n');
    return out.result(1);
  }
}

/** `service ARGS` (CentOS 6's /sbin/service over the machine's init scripts). */
export async function runService(argv: string[], ctx: LabContext): Promise<CommandResult> {
  const out = new Output(ctx.write);
  const iptablesInit = (args: string[]): Promise<number> => runIptablesInit(args, { lab: ctx.lab, exec: ctx.exec, out });
  let init = iptablesInit;
  return guarded(out, async () => {
    if (argv.length === 0) {
      out.stderr(USAGE);
      return 1;
    }
    let service: string | undefined;
    const options: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const left = argv.length - i;
      if (a === '--help' || a === '-h' || a.startsWith('--h')) {
        out.stderr(USAGE);
        return 0;
      }
      if (a === '--version' || a === '-V') {
        out.stderr('service ver. 0.91\n');
        return 0;
      }
      if (service === undefined && left === 1 && a === '--status-all') {
        // every init script of the machine, in name order, with `status`
        const names = ['iptables', ...DAEMON_UNITS.map((u) => u.initScript)].sort();
        for (const name of names) {
          const u = initScriptUnit(name);
          if (u) runDaemonInit(u, ['status'], ctx, out);
          else await iptablesInit(['status']);
        }
        return 0;
      }
      if (left === 2 && argv[i + 1] === '--full-restart') {
        service = a;
        const daemon = initScriptUnit(service);
        if (daemon) init = async (args) => runDaemonInit(daemon, args, ctx, out);
        if (hasService(service)) {
          await init(['stop']);
          return init(['start']);
        }
        i++;
        continue;
      }
      if (service === undefined) service = a;
      else options.push(a);
    }
    if (service === undefined || !hasService(service)) {
      out.stderr(`${service ?? ''}: unrecognized service\n`);
      return 1;
    }
    const daemon = initScriptUnit(service);
    return daemon ? runDaemonInit(daemon, options, ctx, out) : init(options);
  });
}

/** `systemctl ARGS` (systemd 219 with the iptables.service unit). */
export async function runSystemctl(argv: string[], ctx: LabContext): Promise<CommandResult> {
  const out = new Output(ctx.write);
  return guarded(out, () => systemctl(argv, { lab: ctx.lab, exec: ctx.exec, out }));
}
