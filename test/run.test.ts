/**
 * The script runner (`nflab run`) and the shell (`nflab shell`): the lexer's
 * exact tokens, the grammar, how commands run and fail, and the seed 000
 * tutorial's `myfirewall` script exactly as written (read from ../shared at
 * run time, when present).
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../src/cli/main.js';
import { parseScript } from '../src/cli/script/parse.js';
import { ScriptSyntaxError, tokenize, wordText, type Token } from '../src/cli/script/tokenize.js';
import { appendHistory, loadHistory } from '../src/cli/shell.js';
import { SHARED_DIR } from './corpus/paths.js';

/** Tokens as short strings: words as their text (parameters as ${NAME}) with their line, operators as [op@line]. */
function toks(src: string): string[] {
  return tokenize(src).map((t: Token) => (t.kind === 'word' ? `${wordText(t)}@${t.line}` : `[${t.op === '\n' ? 'NL' : t.op}@${t.line}]`));
}

function syntaxError(src: string): { line: number; message: string; incomplete: boolean } {
  try {
    parseScript(src);
  } catch (e) {
    if (e instanceof ScriptSyntaxError) return { line: e.line, message: e.message, incomplete: e.incomplete };
    throw e;
  }
  throw new Error(`no syntax error in ${JSON.stringify(src)}`);
}

describe('script lexer', () => {
  it('skips the #! line, comments and blank lines', () => {
    assert.deepEqual(toks('#!/bin/bash\n# comment\n\niptables -F # trailing\n'), ['[NL@1]', '[NL@2]', '[NL@3]', 'iptables@4', '-F@4', '[NL@4]']);
  });

  it('keeps # inside a word and after an escape', () => {
    assert.deepEqual(toks('echo a#b \\#c'), ['echo@1', 'a#b@1', '#c@1']);
  });

  it('reads single quotes literally, across lines', () => {
    assert.deepEqual(toks(`echo 'a "b" \\n $X'  '' 'x\ny'z`), ['echo@1', 'a "b" \\n $X@1', '@1', 'x\nyz@1']);
  });

  it('reads double quotes with their four escapes and parameters', () => {
    assert.deepEqual(toks('echo "a \\"b\\" \\\\ \\$X \\n $Y ${Z}" ""'), ['echo@1', 'a "b" \\ $X \\n ${Y} ${Z}@1', '@1']);
  });

  it('joins lines ending in a backslash, also inside double quotes, not inside single quotes', () => {
    assert.deepEqual(toks('iptables -A INPUT \\\n  -p tcp \\\n  --dport 22\n'), ['iptables@1', '-A@1', 'INPUT@1', '-p@2', 'tcp@2', '--dport@3', '22@3', '[NL@3]']);
    assert.deepEqual(toks('echo "a\\\nb" \'c\\\nd\''), ['echo@1', 'ab@1', 'c\\\nd@2']);
    assert.deepEqual(toks('ip\\\ntables -L'), ['iptables@1', '-L@2']);
  });

  it('escapes any character outside quotes', () => {
    assert.deepEqual(toks('echo \\"a\\ b\\\\ \\$X'), ['echo@1', '"a b\\@1', '$X@1']);
  });

  it('splits on ; && || and keeps ! and [] as words', () => {
    assert.deepEqual(toks('a;b && c||d ; iptables -A INPUT ! -s 1.2.3.4 -j LOG --log-prefix [IN]'), [
      'a@1', '[;@1]', 'b@1', '[&&@1]', 'c@1', '[||@1]', 'd@1', '[;@1]',
      'iptables@1', '-A@1', 'INPUT@1', '!@1', '-s@1', '1.2.3.4@1', '-j@1', 'LOG@1', '--log-prefix@1', '[IN]@1',
    ]);
  });

  it('reads parameters: $NAME, ${NAME}, $1, $?, and a lone $ literally', () => {
    const t = tokenize('$IPT -A ${CHAIN}x $1 $? a$ $.');
    assert.deepEqual(
      t.map((w) => (w.kind === 'word' ? w.parts : w.op)),
      [
        [{ kind: 'param', name: 'IPT', quoted: false }],
        [{ kind: 'text', text: '-A', quoted: false }],
        [{ kind: 'param', name: 'CHAIN', quoted: false }, { kind: 'text', text: 'x', quoted: false }],
        [{ kind: 'param', name: '1', quoted: false }],
        [{ kind: 'param', name: '?', quoted: false }],
        [{ kind: 'text', text: 'a$', quoted: false }],
        [{ kind: 'text', text: '$.', quoted: false }],
      ],
    );
  });

  it('accepts CRLF line ends', () => {
    assert.deepEqual(toks('iptables -F\r\niptables -X\r\n'), ['iptables@1', '-F@1', '[NL@1]', 'iptables@2', '-X@2', '[NL@2]']);
  });

  it('refuses what it does not do, naming it and the line', () => {
    assert.deepEqual(syntaxError('iptables -L\niptables-save | grep x'), { line: 2, message: "pipelines '|' are not supported by nflab scripts", incomplete: false });
    assert.deepEqual(syntaxError('ftp -n host << EOF'), { line: 1, message: "here-documents '<<' are not supported by nflab scripts", incomplete: false });
    assert.deepEqual(syntaxError('iptables-save >'), { line: 1, message: "syntax error near unexpected token `newline'", incomplete: false });
    assert.deepEqual(syntaxError('true && sleep 1 &'), { line: 1, message: "background lists ('a && b &') not supported by nflab scripts", incomplete: false });
    assert.deepEqual(syntaxError('& sleep 1'), { line: 1, message: "syntax error near unexpected token `&'", incomplete: false });
    assert.deepEqual(syntaxError('echo $(date)'), { line: 1, message: "command substitution '$(...)' is not supported by nflab scripts", incomplete: false });
    assert.deepEqual(syntaxError('echo `date`'), { line: 1, message: "command substitution '`...`' is not supported by nflab scripts", incomplete: false });
    assert.deepEqual(syntaxError('echo ${X:-y}'), { line: 1, message: "'${...}' forms other than ${NAME} are not supported by nflab scripts", incomplete: false });
    assert.deepEqual(syntaxError('\nfor p in 22 80; do echo $p; done'), { line: 2, message: "shell keyword 'for' (compound commands) not supported by nflab scripts", incomplete: false });
  });

  it('reports open quotes and dangling operators as incomplete', () => {
    assert.deepEqual(syntaxError("echo 'abc\n"), { line: 1, message: "unexpected end of file while looking for the matching `''", incomplete: true });
    assert.deepEqual(syntaxError('\necho "abc\n\n'), { line: 2, message: 'unexpected end of file while looking for the matching `"\'', incomplete: true });
    assert.deepEqual(syntaxError('iptables -F &&\n'), { line: 1, message: 'syntax error: unexpected end of file', incomplete: true });
    assert.deepEqual(syntaxError('; iptables -F'), { line: 1, message: "syntax error near unexpected token `;'", incomplete: false });
    assert.deepEqual(syntaxError('a &&\n&& b'), { line: 2, message: "syntax error near unexpected token `&&'", incomplete: false });
  });
});

describe('script grammar', () => {
  it('groups commands into and-or lists; a newline may follow && and ||', () => {
    const lists = parseScript('a; b && c\nd ||\n  e\n');
    assert.deepEqual(
      lists.map((l) => ({ cmds: l.commands.map((c) => `${c.words.map(wordText).join(' ')}@${c.line}`), ops: l.ops })),
      [
        { cmds: ['a@1'], ops: [] },
        { cmds: ['b@1', 'c@1'], ops: ['&&'] },
        { cmds: ['d@2', 'e@3'], ops: ['||'] },
      ],
    );
  });
});

/** A fresh lab and helpers: run a script text, run one nflab command. */
function newLab(): {
  lab: string;
  dir: string;
  run: (name: string, text: string, args?: string[]) => Promise<{ out: string; stdout: string; stderr: string; status: number }>;
  nflab: (...args: string[]) => Promise<string>;
  done: () => void;
} {
  const lab = mkdtempSync(join(tmpdir(), 'nflab-run-'));
  const dir = mkdtempSync(join(tmpdir(), 'nflab-scripts-'));
  return {
    lab,
    dir,
    run: async (name, text, args = []) => {
      writeFileSync(join(dir, name), text);
      let out = '';
      let stdout = '';
      let stderr = '';
      const r = await runNflab(['run', name, ...args], {
        lab,
        cwd: dir,
        write: (fd, t) => {
          out += t;
          if (fd === 1) stdout += t;
          else stderr += t;
        },
      });
      assert.equal(r.stdout + r.stderr, '', 'streamed output is not returned again');
      return { out, stdout, stderr, status: r.status };
    },
    nflab: async (...args) => {
      const r = await runNflab(args, { lab });
      return r.stdout + r.stderr;
    },
    done: () => {
      rmSync(lab, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const LIST_V_MYFIREWALL = [
  'Chain INPUT (policy DROP 0 packets, 0 bytes)',
  ' pkts bytes target     prot opt in     out     source               destination         ',
  '    0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             tcp dpt:ssh',
  '    0     0 ACCEPT     all  --  lo     any     anywhere             anywhere            ',
  '    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             state RELATED,ESTABLISHED',
  '    0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             tcp dpt:http',
  '',
  'Chain FORWARD (policy DROP 0 packets, 0 bytes)',
  ' pkts bytes target     prot opt in     out     source               destination         ',
  '',
  'Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)',
  ' pkts bytes target     prot opt in     out     source               destination         ',
  '',
].join('\n');

describe('nflab run', () => {
  const seed = join(SHARED_DIR, 'seeds', '000_3d2b1490888ac8a0.txt');
  it('runs the tutorial\'s myfirewall script as written (seed 000 lines 267-287)', { skip: existsSync(seed) ? false : 'seeds not found' }, async () => {
    const text = readFileSync(seed, 'utf8').split('\n').slice(266, 287).join('\n') + '\n';
    assert.ok(text.startsWith('#!/bin/bash\n#') && text.includes('/sbin/service iptables save\n'));
    const t = newLab();
    try {
      const r = await t.run('myfirewall', text);
      assert.equal(r.out, `iptables: Saving firewall rules to /etc/sysconfig/iptables: [  OK  ]\r\n${LIST_V_MYFIREWALL}`);
      assert.equal(r.status, 0);
      assert.match(readFileSync(join(t.lab, 'fs/etc/sysconfig/iptables'), 'utf8'), /^-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT$/m);
    } finally {
      t.done();
    }
  });

  it('stops at the first failing command, naming the script line and returning its status', async () => {
    const t = newLab();
    try {
      const r = await t.run('myfirewall', '#!/bin/bash\niptables -F\n\n# ssh\niptables -A INPUT -p tcp --dport 22 -j ACCEPT\niptables -A INPUT -p tcp \\\n  --dport 99999 -j ACCEPT\niptables -P INPUT DROP\n');
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        "iptables v1.8.9 (nf_tables): invalid port/service `99999' specified\nTry `iptables -h' or 'iptables --help' for more information.\n" +
          'nflab: myfirewall: line 6: command failed with exit status 2\n',
      );
      assert.equal(r.status, 2);
      assert.equal(await t.nflab('iptables', '-S', 'INPUT'), '-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n', 'line 8 did not run');
    } finally {
      t.done();
    }
  });

  it('says "command not found" (127) for programs the machine lacks, and "No such file" for paths', async () => {
    const t = newLab();
    try {
      assert.deepEqual(await t.run('s.sh', 'iptables -F\nyum -y install iptables-services\niptables -X\n'), {
        out: 'nflab: s.sh: line 2: yum: command not found\n',
        stdout: '',
        stderr: 'nflab: s.sh: line 2: yum: command not found\n',
        status: 127,
      });
      assert.equal((await t.run('s.sh', '/opt/bin/iptables -L\n')).stderr, 'nflab: s.sh: line 1: /opt/bin/iptables: No such file or directory\n');
    } finally {
      t.done();
    }
  });

  it('passes quotes, escapes and continuations through to iptables', async () => {
    const t = newLab();
    try {
      const r = await t.run(
        'q.sh',
        [
          `iptables -A INPUT -s 10.1.77.146 -p icmp -j LOG --log-prefix "[INPUT] "`,
          `iptables -A OUTPUT -p icmp -j LOG --log-prefix '[OUT] "x"'`,
          `iptables -A INPUT -m comment --comment it\\'s\\ ok -j ACCEPT`,
          `sudo /usr/sbin/iptables -A INPUT \\`,
          `    -p tcp \\`,
          `    --dport 443 -j ACCEPT ; /sbin/iptables -S`,
        ].join('\n'),
      );
      assert.equal(
        r.out,
        '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n' +
          '-A INPUT -s 10.1.77.146/32 -p icmp -j LOG --log-prefix "[INPUT] "\n' +
          '-A INPUT -m comment --comment "it\\\'s ok" -j ACCEPT\n' +
          '-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT\n' +
          '-A OUTPUT -p icmp -j LOG --log-prefix "[OUT] \\"x\\""\n',
      );
      assert.equal(r.status, 0);
    } finally {
      t.done();
    }
  });

  it('expands variables and positional parameters, splitting unquoted values', async () => {
    const t = newLab();
    try {
      const r = await t.run('v.sh', 'IPT=/sbin/iptables PORT=22\nOPTS="-p tcp"\n$IPT -A INPUT $OPTS --dport "${PORT}" -j ACCEPT\n$IPT -A INPUT -s $1 -j DROP\necho "$# args, last status $?"\n', ['192.0.2.1']);
      assert.equal(r.out, '1 args, last status 0\n');
      assert.equal(await t.nflab('iptables', '-S', 'INPUT'), '-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -s 192.0.2.1/32 -j DROP\n');
    } finally {
      t.done();
    }
  });

  it('runs && and || like set -e does, and continues after failures with set +e', async () => {
    const t = newLab();
    try {
      const r = await t.run('l.sh', 'iptables -X nosuch || echo "no chain"\nfalse && echo never\necho after\nset +e\nfalse\necho still; iptables -L nosuch\necho "rc=$?"\nset -e\nfalse || false\necho never\n');
      assert.ok(r.out.includes('no chain\nafter\nstill\n'), r.out);
      assert.ok(r.out.includes('rc=1\n'), r.out);
      assert.ok(r.out.endsWith('nflab: l.sh: line 9: command failed with exit status 1\n'), r.out);
      assert.ok(!r.out.includes('never'), r.out);
      assert.equal(r.status, 1);
    } finally {
      t.done();
    }
  });

  it('keeps stdout and stderr in order across commands', async () => {
    const t = newLab();
    try {
      const r = await t.run('o.sh', 'set +e\necho one\niptables -D INPUT 5\necho two\niptables -P INPUT DROP\niptables -D INPUT 5\niptables -S INPUT\n');
      assert.equal(r.out, 'one\niptables: No chain/target/match by that name.\ntwo\niptables: Index of deletion too big.\n-P INPUT DROP\n');
      assert.equal(r.stderr, 'iptables: No chain/target/match by that name.\niptables: Index of deletion too big.\n');
    } finally {
      t.done();
    }
  });

  it('ends with exit N, and refuses a script with a syntax error before running any of it', async () => {
    const t = newLab();
    try {
      assert.deepEqual(await t.run('e.sh', 'echo a\nexit 3\necho b\n'), { out: 'a\n', stdout: 'a\n', stderr: '', status: 3 });
      const r = await t.run('p.sh', 'iptables -P INPUT DROP\niptables-save | grep INPUT\n');
      assert.equal(r.out, "nflab: p.sh: line 2: pipelines '|' are not supported by nflab scripts\n");
      assert.equal(r.status, 2);
      assert.equal(await t.nflab('iptables', '-S', 'INPUT'), '-P INPUT ACCEPT\n', 'line 1 did not run');
    } finally {
      t.done();
    }
  });

  it('cats the machine\'s files, runs init script paths and other scripts', async () => {
    const t = newLab();
    try {
      writeFileSync(join(t.dir, 'inner.sh'), 'echo "inner $1"\niptables -A INPUT -j ACCEPT\n');
      const r = await t.run('m.sh', 'sh inner.sh x\n./inner.sh y\n/etc/init.d/iptables save\n/usr/libexec/iptables/iptables.init status\ncat /etc/sysconfig/iptables-config /nope\n');
      assert.ok(r.out.startsWith('inner x\ninner y\niptables: Saving firewall rules to /etc/sysconfig/iptables: [  OK  ]\r\nTable: filter\n'), r.out);
      assert.ok(r.out.endsWith('cat: /etc/sysconfig/iptables-config: No such file or directory\ncat: /nope: No such file or directory\nnflab: m.sh: line 5: command failed with exit status 1\n'), r.out);
    } finally {
      t.done();
    }
  });

  it('reports a missing script file', async () => {
    const t = newLab();
    try {
      assert.deepEqual(await runNflab(['run', 'nope.sh'], { lab: t.lab, cwd: t.dir }), { stdout: '', stderr: 'nflab: nope.sh: No such file or directory\n', status: 127 });
      assert.equal((await runNflab(['run'], { lab: t.lab })).status, 2);
    } finally {
      t.done();
    }
  });
});

describe('nflab shell', () => {
  it('reads commands line by line from a non-terminal stdin, without prompts, and does not stop on failures', async () => {
    const lab = mkdtempSync(join(tmpdir(), 'nflab-shell-'));
    try {
      const input = ['iptables -A INPUT \\', '  -p tcp --dport 22 -j ACCEPT', 'nosuch', "echo 'two", "lines'", 'iptables -S INPUT', 'false', ''].join('\n');
      const r = await runNflab(['shell'], { lab, stdin: input });
      assert.equal(r.stdout, 'two\nlines\n-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n');
      assert.equal(r.stderr, 'nflab: line 3: nosuch: command not found\n');
      assert.equal(r.status, 1, 'status of the last command');
      assert.deepEqual(await runNflab(['shell'], { lab, stdin: 'echo a\nexit 4\necho b\n' }), { stdout: 'a\n', stderr: '', status: 4 });
      assert.deepEqual(await runNflab(['shell'], { lab, stdin: 'echo "open\n' }), {
        stdout: '',
        stderr: 'nflab: line 1: unexpected end of file while looking for the matching `"\'\n',
        status: 2,
      });
      assert.deepEqual(await runNflab(['shell', '-c', 'echo x; service iptables save'], { lab }), {
        stdout: 'x\niptables: Saving firewall rules to /etc/sysconfig/iptables: [  OK  ]\r\n',
        stderr: '',
        status: 0,
      });
    } finally {
      rmSync(lab, { recursive: true, force: true });
    }
  });

  it('keeps history in <lab>/.nflab_history', () => {
    const lab = mkdtempSync(join(tmpdir(), 'nflab-hist-'));
    try {
      assert.deepEqual(loadHistory(lab), []);
      appendHistory(lab, 'iptables -L');
      appendHistory(lab, '   ');
      appendHistory(lab, 'service iptables save');
      assert.deepEqual(loadHistory(lab), ['iptables -L', 'service iptables save']);
      assert.equal(readFileSync(join(lab, '.nflab_history'), 'utf8'), 'iptables -L\nservice iptables save\n');
    } finally {
      rmSync(lab, { recursive: true, force: true });
    }
  });
});

describe('redirections', () => {
  it('write and append machine files, set sysctls through /proc/sys, join stderr to stdout, read stdin', async () => {
    const t = newLab();
    try {
      const r = await t.run(
        's.sh',
        [
          'echo 1 > /proc/sys/net/ipv4/ip_forward',
          'sysctl net.ipv4.ip_forward',
          'echo "pasv_min_port=10090" > /etc/vsftpd/vsftpd.conf',
          'echo "pasv_max_port=10100" >> /etc/vsftpd/vsftpd.conf',
          'cat /etc/vsftpd/vsftpd.conf',
          'iptables -X nope 2>&1 || true',
          'iptables -X nope 2> /dev/null || echo quiet',
          'iptables-save > /etc/sysconfig/iptables',
          'iptables-restore < /etc/sysconfig/iptables',
          '',
        ].join('\n'),
      );
      assert.deepEqual(r, {
        out: 'net.ipv4.ip_forward = 1\npasv_min_port=10090\npasv_max_port=10100\niptables: No chain/target/match by that name.\nquiet\n',
        stdout: 'net.ipv4.ip_forward = 1\npasv_min_port=10090\npasv_max_port=10100\niptables: No chain/target/match by that name.\nquiet\n',
        stderr: '',
        status: 0,
      });
    } finally {
      t.done();
    }
  });
});
