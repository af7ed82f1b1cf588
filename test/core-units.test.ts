/**
 * Hand-written cases for the engine's building blocks: C number parsing,
 * IPv4 addresses and masks as libxtables reads and prints them, and GNU
 * getopt_long's ordering, prefixes and argument rules.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { formatIPv4, inetAton, maskToListSuffix, maskToPrefix, maskToSave, parseIPv4Numeric } from '../src/core/addr/ipv4.js';
import { strtoulRange } from '../src/core/util/cnum.js';
import { Getopt } from '../src/cli/iptables/getopt.js';
import { parseAddressList } from '../src/cli/iptables/parse.js';
import { createNameDb } from '../src/core/xt/namedb.js';

test('strtoul semantics: hex, octal, whitespace, sign, range', () => {
  assert.equal(strtoulRange('0x1f', 0, 255), 31);
  assert.equal(strtoulRange('010', 0, 255), 8);
  assert.equal(strtoulRange(' 7', 0, 255), 7);
  assert.equal(strtoulRange('+7', 0, 255), 7);
  assert.equal(strtoulRange('-1', 0, 255), undefined);
  assert.equal(strtoulRange('256', 0, 255), undefined);
  assert.equal(strtoulRange('08', 0, 255), undefined);
  assert.equal(strtoulRange('', 0, 255), undefined);
  assert.equal(strtoulRange('12a', 0, 255), undefined);
});

test('IPv4 parsing as xtables_numeric_to_ipaddr', () => {
  assert.equal(formatIPv4(parseIPv4Numeric('192.168.0.1')!), '192.168.0.1');
  assert.equal(formatIPv4(parseIPv4Numeric('10')!), '10.0.0.0');
  assert.equal(formatIPv4(parseIPv4Numeric('10.1')!), '10.1.0.0');
  assert.equal(formatIPv4(parseIPv4Numeric('0x0a.010.0.1')!), '10.8.0.1');
  assert.equal(parseIPv4Numeric('10', true), undefined);
  assert.equal(parseIPv4Numeric('1.2.3.256'), undefined);
  assert.equal(parseIPv4Numeric('1.2.3.4.5'), undefined);
  assert.equal(parseIPv4Numeric('a.b.c.d'), undefined);
  assert.equal(formatIPv4(inetAton('0x0a000001')!), '10.0.0.1');
  assert.equal(formatIPv4(inetAton('10.65535')!), '10.0.255.255');
});

test('masks: prefixes, dotted and non-contiguous, as -L and save print them', () => {
  assert.equal(maskToPrefix(0xffffff00), 24);
  assert.equal(maskToPrefix(0), 0);
  assert.equal(maskToPrefix(0xff00ff00), -1);
  assert.equal(maskToListSuffix(0xffffffff), '');
  assert.equal(maskToListSuffix(0xffff0000), '/16');
  assert.equal(maskToListSuffix(0xff00ff00), '/255.0.255.0');
  assert.equal(maskToSave(0xffffffff), '32');
  assert.equal(maskToSave(0xff00ff00), '255.0.255.0');
});

test('address lists: commas, masks applied, names from /etc/hosts and /etc/networks', () => {
  const names = createNameDb('10.0.0.1 a\n10.0.0.2 a b\n');
  const fmt = (s: string) => parseAddressList(names, s).map((x) => `${formatIPv4(x.addr)}/${formatIPv4(x.mask)}`);
  assert.deepEqual(fmt('192.168.1.77/24,a'), ['192.168.1.0/255.255.255.0', '10.0.0.1/255.255.255.255', '10.0.0.2/255.255.255.255']);
  assert.deepEqual(fmt('loopback/8'), ['127.0.0.0/255.0.0.0']);
  assert.deepEqual(fmt('nonexistent/0'), ['0.0.0.0/0.0.0.0']);
  assert.deepEqual(fmt('1.2.3.4/255.0.255.0'), ['1.0.3.0/255.0.255.0']);
  assert.throws(() => fmt('1.2.3.4/33'), /invalid mask `33' specified/);
  assert.throws(() => fmt('nohost'), /host\/network `nohost' not found/);
});

test('getopt_long: in-order non-options, clusters, prefixes, ambiguity, missing arguments', () => {
  const longopts = [
    { name: 'dport', hasArg: 'required' as const, val: 'D' },
    { name: 'destination', hasArg: 'required' as const, val: 'd' },
    { name: 'list', hasArg: 'optional' as const, val: 'L' },
  ];
  const all = (argv: string[]) => {
    const g = new Getopt(['prog', ...argv], '-:L::d:nv', longopts);
    const out: string[] = [];
    for (;;) {
      const r = g.next();
      if (r.c === null) break;
      out.push(`${r.c === '\x01' ? 'ARG' : r.c}=${r.optarg ?? ''}`);
    }
    return out.join(' ');
  };
  assert.equal(all(['-nv', 'x', '--dp', '22']), 'n= v= ARG=x D=22');
  assert.equal(all(['--d', '1']), '?= ARG=1');
  assert.equal(all(['--list=FOO', '-LBAR', '--list', 'X']), 'L=FOO L=BAR L= ARG=X');
  assert.equal(all(['-d']), ':=');
  assert.equal(all(['-d1.2.3.4', '--destination=5']), 'd=1.2.3.4 d=5');
  assert.equal(all(['--bogus', '-q']), '?= ?=');
  assert.equal(all(['!', '-', '--', '-n']), 'ARG=! ARG=-');
});
