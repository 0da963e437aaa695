import { describe, expect, it } from 'vitest';
import { canAccessDepartment, requireDepartmentAccess, requireRole, type Principal } from './auth.js';
import { ForbiddenError } from './errors.js';

const p = (role: Principal['role'], departmentId: string | null = null): Principal => ({ kind: 'user', id: 'u', name: 'u', role, departmentId, centreId: 'main' });

describe('authorisation rules', () => {
  it('confines department handlers to their own department', () => {
    expect(canAccessDepartment(p('dept_handler', 'd1'), 'd1')).toBe(true);
    expect(canAccessDepartment(p('dept_handler', 'd1'), 'd2')).toBe(false);
    expect(canAccessDepartment(p('dept_handler', 'd1'), null)).toBe(false);
    expect(() => requireDepartmentAccess(p('dept_handler', 'd1'), 'd2')).toThrow(ForbiddenError);
  });
  it('lets hotline staff reach every department but not integrators', () => {
    for (const role of ['agent', 'supervisor', 'operator', 'admin'] as const) expect(canAccessDepartment(p(role), 'd9')).toBe(true);
    expect(canAccessDepartment(p('integrator'), 'd9')).toBe(false);
  });
  it('names the allowed roles when refusing', () => {
    try {
      requireRole(p('agent'), ['admin', 'operator']);
      expect.unreachable();
    } catch (err) {
      expect((err as ForbiddenError).code).toBe('role_forbidden');
      expect((err as ForbiddenError).details).toEqual({ allowed: ['admin', 'operator'] });
    }
  });
});
