/** Who is asking, and what their role and department allow. Pure: no I/O. */
import { ForbiddenError } from './errors.js';

export const USER_ROLES = ['agent', 'supervisor', 'operator', 'dept_handler', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];
/** API keys serve machines: integrators (110/119/120/122, utilities), departments, operators' tooling. */
export const API_KEY_ROLES = ['integrator', 'dept_handler', 'operator'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];
export type Role = UserRole | ApiKeyRole;

export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  agent: '座席',
  supervisor: '班长',
  operator: '运维',
  dept_handler: '承办部门',
  admin: '管理员',
  integrator: '联动单位',
};

export interface Principal {
  readonly kind: 'user' | 'api_key';
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** Set for department handlers: the department they act for (their scope). */
  readonly departmentId: string | null;
  readonly centreId: string;
  readonly sessionId?: string;
}

export function hasRole(principal: Principal, roles: readonly Role[]): boolean {
  return roles.includes(principal.role);
}

export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (!hasRole(principal, roles)) {
    throw new ForbiddenError(`Role '${principal.role}' may not do this; allowed: ${roles.join(', ')}`, 'role_forbidden', { allowed: [...roles] });
  }
}

/** Department handlers are confined to their own department; hotline staff see every department. */
export function isDepartmentScoped(principal: Principal): boolean {
  return principal.role === 'dept_handler';
}

export function canAccessDepartment(principal: Principal, departmentId: string | null | undefined): boolean {
  if (!isDepartmentScoped(principal)) return principal.role !== 'integrator';
  return departmentId != null && departmentId === principal.departmentId;
}

export function requireDepartmentAccess(principal: Principal, departmentId: string | null | undefined): void {
  if (!canAccessDepartment(principal, departmentId)) {
    throw new ForbiddenError('This belongs to another department', 'department_forbidden');
  }
}
