/**
 * Registers the rate group of extensions: rate limiting, recent-address
 * lists, quotas, sampling, time windows, payload strings and BPF, rate
 * estimators, and the targets that go with them (RATEEST, IDLETIMER,
 * LED, AUDIT, HMARK, SYNPROXY, TEE, TPROXY, CLUSTERIP, SECMARK,
 * CONNSECMARK).
 */
import { register } from '../registry.js';
import { limit } from '../match/limit.js';
import { hashlimit } from '../match/hashlimit.js';
import { recent } from '../match/recent.js';
import { quota } from '../match/quota.js';
import { statistic } from '../match/statistic.js';
import { time } from '../match/time.js';
import { string } from '../match/string.js';
import { bpf } from '../match/bpf.js';
import { rateest } from '../match/rateest.js';
import { RATEEST } from '../target/RATEEST.js';
import { IDLETIMER } from '../target/IDLETIMER.js';
import { LED } from '../target/LED.js';
import { AUDIT } from '../target/AUDIT.js';
import { HMARK } from '../target/HMARK.js';
import { SYNPROXY } from '../target/SYNPROXY.js';
import { TEE } from '../target/TEE.js';
import { TPROXY } from '../target/TPROXY.js';
import { CLUSTERIP } from '../target/CLUSTERIP.js';
import { SECMARK } from '../target/SECMARK.js';
import { CONNSECMARK } from '../target/CONNSECMARK.js';

register(limit, hashlimit, recent, quota, statistic, time, string, bpf, rateest);
register(RATEEST, IDLETIMER, LED, AUDIT, HMARK, SYNPROXY, TEE, TPROXY, CLUSTERIP, SECMARK, CONNSECMARK);
