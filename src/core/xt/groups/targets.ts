/**
 * Registers the targets group of extensions: logging (LOG, NFLOG), REJECT,
 * marks (MARK, CONNMARK), NAT (SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP),
 * conntrack templates (CT, NOTRACK), TRACE, CLASSIFY, NFQUEUE and SET.
 */
import { register } from '../registry.js';
import { CLASSIFY } from '../target/CLASSIFY.js';
import { CONNMARK } from '../target/CONNMARK.js';
import { CT, NOTRACK } from '../target/CT.js';
import { DNAT } from '../target/DNAT.js';
import { LOG } from '../target/LOG.js';
import { MARK } from '../target/MARK.js';
import { MASQUERADE } from '../target/MASQUERADE.js';
import { NETMAP } from '../target/NETMAP.js';
import { NFLOG } from '../target/NFLOG.js';
import { NFQUEUE } from '../target/NFQUEUE.js';
import { REDIRECT } from '../target/REDIRECT.js';
import { REJECT } from '../target/REJECT.js';
import { SET } from '../target/SET.js';
import { SNAT } from '../target/SNAT.js';
import { TRACE } from '../target/TRACE.js';

register(LOG, NFLOG, REJECT, MARK, CONNMARK, SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP, CT, NOTRACK, TRACE, CLASSIFY, NFQUEUE, SET);
