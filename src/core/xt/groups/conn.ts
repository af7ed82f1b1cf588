/**
 * Registers the conn group of extensions: connection tracking and
 * socket/ownership matches (state, conntrack, mark, connmark, comment,
 * owner, helper, connlimit, connbytes, connlabel, physdev, set, policy,
 * socket, cgroup, ipvs, nfacct, cluster, osf).
 */
import { register } from '../registry.js';
import { cgroup } from '../match/cgroup.js';
import { cluster } from '../match/cluster.js';
import { comment } from '../match/comment.js';
import { connbytes } from '../match/connbytes.js';
import { connlabel } from '../match/connlabel.js';
import { connlimit } from '../match/connlimit.js';
import { connmark } from '../match/connmark.js';
import { conntrack } from '../match/conntrack.js';
import { helper } from '../match/helper.js';
import { ipvs } from '../match/ipvs.js';
import { mark } from '../match/mark.js';
import { nfacct } from '../match/nfacct.js';
import { osf } from '../match/osf.js';
import { owner } from '../match/owner.js';
import { physdev } from '../match/physdev.js';
import { policy } from '../match/policy.js';
import { set } from '../match/set.js';
import { socket } from '../match/socket.js';
import { state } from '../match/state.js';

register(
  state,
  conntrack,
  comment,
  mark,
  connmark,
  owner,
  helper,
  connlimit,
  physdev,
  set,
  policy,
  connbytes,
  connlabel,
  socket,
  cgroup,
  ipvs,
  nfacct,
  cluster,
  osf,
);
