/**
 * Registers every extension nflab implements. Importing this module once
 * makes them available to the command line and the packet path.
 */
import { register } from './registry.js';
import { tcp } from './match/tcp.js';
import { standard } from './target/standard.js';
import './groups/proto.js';
import './groups/conn.js';
import './groups/rate.js';
import './groups/targets.js';
import './groups/ip6.js';

register(tcp, standard);
