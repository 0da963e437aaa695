export { cidrContains, parseCidr, parseIp, type Cidr, type IpFamily, type ParsedIp } from './ip.js';
export { SlidingWindowCounter } from './sliding-window.js';
export {
  SECURITY_FAILURE_KINDS, SipGuard, isSecurityFailureKind,
  type AclApplier, type BlockEntry, type GuardOutcome, type SecurityAlert, type SecurityFailure, type SecurityFailureKind, type SecurityPolicy,
} from './sip-guard.js';
