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
 */
import { LabDamaged } from './lab/store.js';
import { runIptablesInit } from './script/initscript.js';
import { Output, type CommandResult, type LabContext } from './script/io.js';
import { systemctl } from './script/systemd.js';

const USAGE = 'Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n';

/** Services with an init script on the machine. */
const SERVICES = new Set(['iptables']);

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
  const init = (args: string[]): Promise<number> => runIptablesInit(args, { lab: ctx.lab, exec: ctx.exec, out });
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
        await init(['status']); // the only init script of the machine
        return 0;
      }
      if (left === 2 && argv[i + 1] === '--full-restart') {
        service = a;
        if (SERVICES.has(service)) {
          await init(['stop']);
          return init(['start']);
        }
        i++;
        continue;
      }
      if (service === undefined) service = a;
      else options.push(a);
    }
    if (service === undefined || !SERVICES.has(service)) {
      out.stderr(`${service ?? ''}: unrecognized service\n`);
      return 1;
    }
    return init(options);
  });
}

/** `systemctl ARGS` (systemd 219 with the iptables.service unit). */
export async function runSystemctl(argv: string[], ctx: LabContext): Promise<CommandResult> {
  const out = new Output(ctx.write);
  return guarded(out, () => systemctl(argv, { lab: ctx.lab, exec: ctx.exec, out }));
}
