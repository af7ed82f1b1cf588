/**
 * modprobe, lsmod and the module files on a lab host: what a user of
 * Debian 12's modular kernel sees when loading the FTP helper.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runLsmod, runModprobe } from '../src/cli/modprobe.js';
import { autoloadHelperModule, helperAssignmentNote, helperNames, missingHelperNote, moduleFiles, moduleParam, writeModuleFile } from '../src/core/conntrack/modules.js';
import type { Conn } from '../src/core/conntrack/types.js';
import type { HostState } from '../src/core/world/state.js';

const host = (): HostState => ({ netns: {} });
const LIB = '/lib/modules/6.1.0-18-amd64/kernel';

describe('modprobe', () => {
  it('loads the FTP helper and what it needs, silently', () => {
    const h = host();
    const r = runModprobe(['nf_conntrack_ftp'], h);
    assert.deepEqual(r, { stdout: '', stderr: '', status: 0, changed: true, kmsg: [] });
    assert.deepEqual(
      h.modules!.map((m) => m.name),
      ['libcrc32c', 'nf_defrag_ipv4', 'nf_defrag_ipv6', 'nf_conntrack', 'nf_conntrack_ftp'],
    );
    // loading it again changes nothing
    assert.deepEqual(runModprobe(['nf_conntrack_ftp'], h), { stdout: '', stderr: '', status: 0, changed: false, kmsg: [] });
  });

  it('-v shows each insmod, with the parameters of the module asked for', () => {
    const h = host();
    const r = runModprobe(['-v', 'nf_conntrack_ftp', 'ports=21,2121'], h);
    assert.equal(
      r.stdout,
      `insmod ${LIB}/lib/libcrc32c.ko \n` +
        `insmod ${LIB}/net/ipv4/netfilter/nf_defrag_ipv4.ko \n` +
        `insmod ${LIB}/net/ipv6/netfilter/nf_defrag_ipv6.ko \n` +
        `insmod ${LIB}/net/netfilter/nf_conntrack.ko \n` +
        `insmod ${LIB}/net/netfilter/nf_conntrack_ftp.ko ports=21,2121\n`,
    );
    assert.equal(moduleParam(h, 'nf_conntrack_ftp', 'ports'), '21,2121');
    assert.deepEqual(helperNames(h), ['ftp', 'ftp-2121']);
    // a second helper module needs only itself now
    assert.equal(runModprobe(['-v', 'nf_nat_ftp'], h).stdout, `insmod ${LIB}/net/netfilter/nf_nat.ko \ninsmod ${LIB}/net/netfilter/nf_nat_ftp.ko \n`);
  });

  it('lsmod lists the newest first, with the modules using each', () => {
    const h = host();
    runModprobe(['nf_nat_ftp'], h);
    assert.equal(
      runLsmod([], h).stdout,
      'Module                  Size  Used by\n' +
        'nf_nat_ftp             20480  0\n' +
        'nf_nat                 57344  1 nf_nat_ftp\n' +
        'nf_conntrack_ftp       24576  1 nf_nat_ftp\n' +
        'nf_conntrack          184320  3 nf_nat_ftp,nf_nat,nf_conntrack_ftp\n' +
        'nf_defrag_ipv6         24576  1 nf_conntrack\n' +
        'nf_defrag_ipv4         16384  1 nf_conntrack\n' +
        'libcrc32c              16384  2 nf_nat,nf_conntrack\n',
    );
    assert.equal(runLsmod(['x'], h).stderr, 'lsmod: ERROR: too many arguments provided.\n');
  });

  it('the parameter files show the values loaded, or the defaults', () => {
    const h = host();
    runModprobe(['nf_conntrack_ftp', 'loose=1'], h);
    const f = moduleFiles(h);
    assert.equal(f['/sys/module/nf_conntrack_ftp/parameters/ports'], '21\n');
    assert.equal(f['/sys/module/nf_conntrack_ftp/parameters/loose'], 'Y\n');
    assert.equal(f['/sys/module/nf_conntrack/parameters/hashsize'], '262144\n');
    assert.equal(f['/sys/module/nf_conntrack_ftp/refcnt'], '0\n');
    assert.equal(
      f['/proc/modules'],
      'nf_conntrack_ftp 24576 0 - Live 0x0000000000000000\n' +
        'nf_conntrack 184320 1 nf_conntrack_ftp, Live 0x0000000000000000\n' +
        'nf_defrag_ipv6 24576 1 nf_conntrack, Live 0x0000000000000000\n' +
        'nf_defrag_ipv4 16384 1 nf_conntrack, Live 0x0000000000000000\n' +
        'libcrc32c 16384 1 nf_conntrack, Live 0x0000000000000000\n',
    );
    assert.equal(f['/sys/module/nf_nat/parameters/x'], undefined);
    // loose can be changed at run time; ports cannot
    assert.equal(writeModuleFile(h, '/sys/module/nf_conntrack_ftp/parameters/loose', 'N\n'), null);
    assert.equal(moduleFiles(h)['/sys/module/nf_conntrack_ftp/parameters/loose'], 'N\n');
    assert.equal(writeModuleFile(h, '/sys/module/nf_conntrack_ftp/parameters/loose', 'maybe\n'), 'EINVAL');
    assert.equal(writeModuleFile(h, '/sys/module/nf_conntrack_ftp/parameters/ports', '2121\n'), 'EACCES');
    assert.equal(writeModuleFile(h, '/sys/module/nf_conntrack_tftp/parameters/ports', '69\n'), 'ENOENT');
  });

  it('refuses bad parameters, ignores unknown ones, as the kernel does', () => {
    const h = host();
    const bad = runModprobe(['nf_conntrack_ftp', 'ports=21,70000'], h);
    assert.equal(bad.stderr, "modprobe: ERROR: could not insert 'nf_conntrack_ftp': Invalid argument\n");
    assert.equal(bad.status, 1);
    assert.deepEqual(bad.kmsg, ["nf_conntrack_ftp: `70000' invalid for parameter `ports'"]);
    assert.equal(h.modules!.some((m) => m.name === 'nf_conntrack_ftp'), false);
    // the modules it needed stay
    assert.equal(h.modules!.some((m) => m.name === 'nf_conntrack'), true);
    const old = runModprobe(['nf_conntrack_ftp', 'nf_conntrack_helper=1'], h);
    assert.equal(old.status, 0);
    assert.deepEqual(old.kmsg, ["nf_conntrack_ftp: unknown parameter 'nf_conntrack_helper' ignored"]);
  });

  it('unknown modules, removal, modules in use', () => {
    const h = host();
    assert.deepEqual(runModprobe(['nf_conntrack_foo'], h), {
      stdout: '',
      stderr: 'modprobe: FATAL: Module nf_conntrack_foo not found in directory /lib/modules/6.1.0-18-amd64\n',
      status: 1,
      changed: false,
      kmsg: [],
    });
    assert.equal(runModprobe(['-r', 'nf_conntrack_ftp'], h).stderr, 'modprobe: FATAL: Module nf_conntrack_ftp is not in kernel.\n');
    runModprobe(['ip_conntrack_ftp'], h);
    assert.equal(runModprobe(['-r', 'nf_conntrack'], h).stderr, 'modprobe: FATAL: Module nf_conntrack is in use.\n');
    const r = runModprobe(['-rv', 'nf_conntrack_ftp'], h);
    assert.equal(r.stdout, 'rmmod nf_conntrack_ftp\nrmmod nf_conntrack\nrmmod nf_defrag_ipv6\nrmmod nf_defrag_ipv4\nrmmod libcrc32c\n');
    assert.deepEqual(h.modules, []);
    assert.equal(runModprobe([], h).stderr, 'modprobe: ERROR: missing parameters. See -h.\n');
  });

  it('a CT rule naming a helper loads its module, as request_module does', () => {
    const h = host();
    assert.equal(autoloadHelperModule(h, 'ftp'), true);
    assert.equal(autoloadHelperModule(h, 'ftp'), false);
    assert.equal(autoloadHelperModule(h, 'RAS'), false);
    assert.equal(runLsmod([], h).stdout.split('\n')[1], 'nf_conntrack_ftp       24576  0');
    assert.equal(h.modules!.length, 5);
  });

  it('says how to attach a helper on this kernel', () => {
    assert.equal(
      helperAssignmentNote(),
      'Conntrack helpers are no longer attached to connections by port: Linux 4.7 turned that off by default and current ' +
        'kernels removed it (the nf_conntrack_helper sysctl and module parameter are gone), so loading nf_conntrack_ftp only ' +
        'makes the "ftp" helper available. Attach it with a rule in the raw table, e.g. iptables -t raw -A PREROUTING -p tcp ' +
        '--dport 21 -j CT --helper ftp (and -A OUTPUT for connections this host opens); then the data connections it ' +
        'announces are RELATED.',
    );
    const h = host();
    const conn = { orig: { src: 1, dst: 2, proto: 6, sport: 50000, dport: 2121 }, helper: '', master: 0 } as Conn;
    assert.equal(missingHelperNote(h, conn), null);
    runModprobe(['nf_conntrack_ftp', 'ports=21,2121'], h);
    assert.equal(missingHelperNote(h, conn), helperAssignmentNote('ftp', 2121));
    assert.equal(missingHelperNote(h, { ...conn, helper: 'ftp-2121' }), null);
    assert.equal(missingHelperNote(h, { ...conn, orig: { ...conn.orig, dport: 80 } }), null);
  });
});
