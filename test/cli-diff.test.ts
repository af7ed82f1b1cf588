/**
 * Kernel-differential test of the iptables command line: the error paths
 * (test/cases/errors.ts) and the accepted forms with their listings,
 * iptables-save and iptables-restore (test/cases/forms.ts), and how a
 * command is prepared and committed (test/cases/commit.ts).
 */
import { commitCases } from './cases/commit.js';
import { errorCases } from './cases/errors.js';
import { formCases } from './cases/forms.js';
import { diffSuite } from './diff/suite.js';

diffSuite('iptables error paths (kernel vs nflab)', errorCases);
diffSuite('iptables accepted forms (kernel vs nflab)', formCases);
diffSuite('iptables prepare and commit (kernel vs nflab)', commitCases);
