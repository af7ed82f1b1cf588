/**
 * Kernel-differential test of ip6tables, ip6tables-save and
 * ip6tables-restore (test/cases/ip6.ts): each case runs against the real
 * ip6tables in a fresh network namespace and against nflab.
 */
import { ip6Cases } from './cases/ip6.js';
import { diffSuite } from './diff/suite.js';

diffSuite('ip6tables (kernel vs nflab)', ip6Cases);
