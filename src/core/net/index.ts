/**
 * The network of a lab machine: the NetState model and the lookups the
 * packet path uses. See types.ts for the data, fib.ts for routing.
 */
export type { Inet4Addr, Inet6Addr, Link, LinkKind, Neigh, NetState, NudState, Route4, RouteType } from './types.js';
export { SCOPE_HOST, SCOPE_LINK, SCOPE_NOWHERE, SCOPE_UNIVERSE, TABLE_LOCAL, TABLE_MAIN } from './types.js';
export {
  addressesOf,
  cloneNetState,
  emptyNetState,
  isLocalAddress,
  linkByIndex,
  linkByName,
  linkFlags,
  normalizeNetState,
  operState,
} from './state.js';
export { fibLookup, inetAddrType, selectSourceAddress, type FibResult } from './fib.js';
export { routeOutput, type OutputRoute } from './output.js';
export type { NetError, Errno } from './errors.js';
export { neighLearn, neighLookup } from './neigh.js';
export { sysctlGet, sysctlInt } from './sysctl.js';
