/**
 * Kernel-differential test of every iptables command line in the seed
 * tutorials (test/cases/seeds.ts): each case runs on the real kernel in a
 * fresh network namespace and on nflab, and every step must print the same.
 */
import { seedCases } from './cases/seeds.js';
import { diffSuite } from './diff/suite.js';

diffSuite('seeds (kernel vs nflab)', seedCases);
