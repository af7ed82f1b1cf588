/**
 * SNMPv3 messages as tcpdump prints them on ports 161/162 (the request
 * nmap's UDP scan sends): ` F=r U="" E= C="" GetRequest(12) `, with -v
 * the nested `{ SNMPv3 { F=r } { USM B=0 T=0 U="" } ... }` form; and
 * SNMPv1/v2c requests (` GetNextRequest(18)  .0.0`). Only version 3 with
 * the user-based security model and no variable bindings, and community
 * requests with NULL values, are decoded; other messages are left to the
 * caller (undefined).
 */
import { isPrint } from './print-text.js';

const PDU_NAMES = ['GetRequest', 'GetNextRequest', 'GetResponse', 'SetRequest', 'Trap', 'GetBulk', 'Inform', 'V2Trap', 'Report'];

/** One BER element: its tag, where its contents start and their length. */
interface Ber {
  tag: number;
  at: number;
  len: number;
  end: number;
}

function ber(buf: Uint8Array, at: number, limit: number): Ber | undefined {
  if (at + 2 > limit) return undefined;
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) return undefined;
  return { tag, at: p, len, end: p + len };
}

function int(buf: Uint8Array, e: Ber): number {
  let v = e.len > 0 && buf[e.at]! & 0x80 ? -1 : 0;
  for (let i = 0; i < e.len; i++) v = v * 256 + buf[e.at + i]!;
  return v | 0;
}

function octets(buf: Uint8Array, e: Ber): string {
  let s = '';
  for (let i = 0; i < e.len; i++) s += '_' + buf[e.at + i]!.toString(16).padStart(2, '0');
  return s;
}

function str(buf: Uint8Array, e: Ber): string {
  let printable = true;
  for (let i = 0; i < e.len; i++) if (!isPrint(buf[e.at + i]!)) printable = false;
  if (printable) {
    let s = '"';
    for (let i = 0; i < e.len; i++) s += String.fromCharCode(buf[e.at + i]!);
    return s + '"';
  }
  const parts: string[] = [];
  for (let i = 0; i < e.len; i++) parts.push(buf[e.at + i]!.toString(16).padStart(2, '0'));
  return parts.join('_');
}

/** The SNMP message at `buf[from, from + len)`, or undefined when it is not one this decoder covers. */
export function formatSnmp(buf: Uint8Array, from: number, len: number, capEnd: number, verbose: number): string | undefined {
  const limit = Math.min(from + len, capEnd);
  const v = verbose > 0;
  const msg = ber(buf, from, limit);
  if (!msg || msg.tag !== 0x30 || msg.end !== from + len) return undefined;
  const ver = ber(buf, msg.at, msg.end);
  if (!ver || ver.tag !== 0x02) return undefined;
  if (int(buf, ver) === 0 || int(buf, ver) === 1) return formatCommunity(buf, msg, ver, v);
  if (int(buf, ver) !== 3) return undefined;
  const global = ber(buf, ver.end, msg.end);
  if (!global || global.tag !== 0x30) return undefined;
  const id = ber(buf, global.at, global.end);
  const max = id && ber(buf, id.end, global.end);
  const flagsE = max && ber(buf, max.end, global.end);
  const model = flagsE && ber(buf, flagsE.end, global.end);
  if (!id || !max || !flagsE || !model || id.tag !== 2 || max.tag !== 2 || flagsE.tag !== 4 || flagsE.len !== 1 || model.tag !== 2 || model.end !== global.end) return undefined;
  const flags = buf[flagsE.at]!;
  if (flags > 7 || int(buf, model) !== 3) return undefined;
  const secParams = ber(buf, global.end, msg.end);
  if (!secParams || secParams.tag !== 4) return undefined;
  const usm = ber(buf, secParams.at, secParams.end);
  if (!usm || usm.tag !== 0x30 || usm.end !== secParams.end) return undefined;
  const engine = ber(buf, usm.at, usm.end);
  const boots = engine && ber(buf, engine.end, usm.end);
  const time = boots && ber(buf, boots.end, usm.end);
  const user = time && ber(buf, time.end, usm.end);
  const auth = user && ber(buf, user.end, usm.end);
  const priv = auth && ber(buf, auth.end, usm.end);
  if (!engine || !boots || !time || !user || !auth || !priv || priv.end !== usm.end) return undefined;
  if (engine.tag !== 4 || boots.tag !== 2 || time.tag !== 2 || user.tag !== 4 || auth.tag !== 4 || priv.tag !== 4) return undefined;
  const scoped = ber(buf, secParams.end, msg.end);
  if (!scoped || scoped.tag !== 0x30 || scoped.end !== msg.end) return undefined;
  const ctxEngine = ber(buf, scoped.at, scoped.end);
  const ctxName = ctxEngine && ber(buf, ctxEngine.end, scoped.end);
  const pdu = ctxName && ber(buf, ctxName.end, scoped.end);
  if (!ctxEngine || !ctxName || !pdu || ctxEngine.tag !== 4 || ctxName.tag !== 4 || pdu.end !== scoped.end) return undefined;
  const kind = pdu.tag - 0xa0;
  if (kind < 0 || kind > 8 || kind === 4) return undefined;
  const reqId = ber(buf, pdu.at, pdu.end);
  const errStatus = reqId && ber(buf, reqId.end, pdu.end);
  const errIndex = errStatus && ber(buf, errStatus.end, pdu.end);
  const binds = errIndex && ber(buf, errIndex.end, pdu.end);
  if (!reqId || !errStatus || !errIndex || !binds || reqId.tag !== 2 || errStatus.tag !== 2 || errIndex.tag !== 2) return undefined;
  if (int(buf, errStatus) !== 0 || int(buf, errIndex) !== 0 || binds.tag !== 0x30 || binds.len !== 0 || binds.end !== pdu.end) return undefined;
  let s = ' ';
  if (v) s += '{ SNMPv3 { ';
  s += `F=${flags & 1 ? 'a' : ''}${flags & 2 ? 'p' : ''}${flags & 4 ? 'r' : ''} `;
  if (v) s += '} { USM ';
  if (v) s += `B=${int(buf, boots)} T=${int(buf, time)} `;
  s += `U=${str(buf, user)} `;
  if (v) s += '} { ScopedPDU ';
  s += `E=${octets(buf, ctxEngine)} C=${str(buf, ctxName)} `;
  if (v) s += '{ ';
  s += `${PDU_NAMES[kind]}(${pdu.len}) `;
  if (v) s += `R=${int(buf, reqId)} `;
  if (v) s += ' } } } ';
  return s;
}

/** An OBJECT IDENTIFIER as tcpdump prints one without a MIB: dotted, with a leading dot. */
function oid(buf: Uint8Array, e: Ber): string | undefined {
  if (e.len === 0) return undefined;
  const first = buf[e.at]!;
  const parts = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let n = 0;
  for (let i = e.at + 1; i < e.end; i++) {
    n = n * 128 + (buf[i]! & 0x7f);
    if ((buf[i]! & 0x80) === 0) {
      parts.push(n);
      n = 0;
    }
  }
  return '.' + parts.join('.');
}

/**
 * SNMPv1/v2c requests (nmap's community probe): `C="..."` unless the
 * community is "public", the PDU, with -v its request id, then each
 * variable's name. Only requests whose values are NULL and without errors
 * are decoded.
 */
function formatCommunity(buf: Uint8Array, msg: Ber, ver: Ber, v: boolean): string | undefined {
  const community = ber(buf, ver.end, msg.end);
  const pdu = community && ber(buf, community.end, msg.end);
  if (!community || !pdu || community.tag !== 4 || pdu.end !== msg.end) return undefined;
  const kind = pdu.tag - 0xa0;
  if (kind < 0 || kind > 8 || kind === 4) return undefined;
  const reqId = ber(buf, pdu.at, pdu.end);
  const errStatus = reqId && ber(buf, reqId.end, pdu.end);
  const errIndex = errStatus && ber(buf, errStatus.end, pdu.end);
  const binds = errIndex && ber(buf, errIndex.end, pdu.end);
  if (!reqId || !errStatus || !errIndex || !binds || reqId.tag !== 2 || errStatus.tag !== 2 || errIndex.tag !== 2 || binds.tag !== 0x30) return undefined;
  if (int(buf, errStatus) !== 0 || int(buf, errIndex) !== 0 || binds.end !== pdu.end) return undefined;
  const names: string[] = [];
  for (let at = binds.at; at < binds.end; ) {
    const bind = ber(buf, at, binds.end);
    const name = bind && ber(buf, bind.at, bind.end);
    const value = name && ber(buf, name.end, bind.end);
    if (!bind || bind.tag !== 0x30 || !name || name.tag !== 6 || !value || value.tag !== 5 || value.len !== 0 || value.end !== bind.end) return undefined;
    const o = oid(buf, name);
    if (o === undefined) return undefined;
    names.push(o);
    at = bind.end;
  }
  const pub = community.len === 6 && String.fromCharCode(...buf.subarray(community.at, community.end)) === 'public';
  let s = ' ';
  if (v) s += `{ ${int(buf, ver) === 0 ? 'SNMPv1' : 'SNMPv2c'} `;
  if (!pub) s += `C=${str(buf, community)} `;
  if (v) s += '{ ';
  s += `${PDU_NAMES[kind]}(${pdu.len}) `;
  if (v) s += `R=${int(buf, reqId)} `;
  for (const n of names) s += ` ${n}`;
  if (v) s += ' } } ';
  return s;
}
