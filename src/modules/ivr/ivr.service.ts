/**
 * The IVR menu as a versioned document: operators publish a new version (validated against the
 * prompt catalogue and the active queues), every version is kept, the highest is in force, and
 * the call flow reads it through `currentMenu()`.
 */
import type { Database } from '../../adapters/db/database.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { validateIvrMenu, type IvrMenu, type MenuProblem } from '../../domain/ivr/menu.js';
import type { PromptCatalog } from '../../domain/ivr/prompts.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { IvrRepository, MenuVersionRow } from './ivr.repository.js';

const MANAGERS = ['operator', 'admin'] as const;
const READERS = ['supervisor', 'operator', 'admin'] as const;

export interface MenuVersion { version: number; document: IvrMenu; note: string | null; createdBy: string | null; createdAt: string }
export type MenuVersionSummary = Omit<MenuVersion, 'document'>;

export class IvrService {
  constructor(private readonly db: Database, private readonly repo: IvrRepository, private readonly prompts: PromptCatalog, private readonly outbox: OutboxRepository) {}

  /** Every problem with the document, without publishing it. */
  async check(menu: IvrMenu, actor: Principal): Promise<MenuProblem[]> {
    requireRole(actor, MANAGERS);
    return validateIvrMenu(menu, { promptIds: new Set(this.prompts.ids), queueCodes: await this.repo.activeQueueCodes(this.db) });
  }

  async publish(menu: IvrMenu, opts: { note?: string; baseVersion?: number }, actor: Principal): Promise<MenuVersion> {
    requireRole(actor, MANAGERS);
    return this.db.transaction().execute(async (tx) => {
      await this.repo.lockConfig(tx);
      const current = await this.repo.current(tx);
      const currentVersion = current?.version ?? 0;
      if (opts.baseVersion !== undefined && opts.baseVersion !== currentVersion) {
        throw new ConflictError(`The menu in force is version ${currentVersion}, not ${opts.baseVersion}`, 'ivr_menu_version_conflict', { version: currentVersion });
      }
      const problems = validateIvrMenu(menu, { promptIds: new Set(this.prompts.ids), queueCodes: await this.repo.activeQueueCodes(tx) });
      const first = problems[0];
      if (first) throw new ValidationError(`${first.path}: ${first.message}`, { path: first.path, problems }, first.code);
      const createdBy = actor.kind === 'user' && (await this.repo.userExists(tx, actor.id)) ? actor.id : null;
      const row = await this.repo.insert(tx, { version: currentVersion + 1, document: menu, note: opts.note ?? null, createdBy });
      await this.outbox.append(tx, [{ type: 'ivr.menu_published', payload: { version: row.version, previousVersion: current?.version ?? null, by: actor.id } }]);
      return toPublic(row);
    });
  }

  async current(actor: Principal): Promise<MenuVersion> {
    requireRole(actor, READERS);
    const row = await this.repo.current(this.db);
    if (!row) throw new NotFoundError('IVR menu', 'current', 'ivr_menu_not_configured');
    return toPublic(row);
  }

  async version(version: number, actor: Principal): Promise<MenuVersion> {
    requireRole(actor, READERS);
    const row = await this.repo.find(this.db, version);
    if (!row) throw new NotFoundError('IVR menu version', version, 'ivr_menu_version_not_found');
    return toPublic(row);
  }

  async versions(limit: number, actor: Principal): Promise<MenuVersionSummary[]> {
    requireRole(actor, READERS);
    return (await this.repo.list(this.db, limit)).map((r) => ({ version: r.version, note: r.note, createdBy: r.createdBy, createdAt: r.createdAt.toISOString() }));
  }

  promptList(actor: Principal): { id: string; purpose: string; zh: string; en: string }[] {
    requireRole(actor, READERS);
    return this.prompts.prompts.map((p) => ({ id: p.id, purpose: p.purpose, zh: p.zh, en: p.en }));
  }

  /** For the call flow: the menu in force, or null before one is published. */
  async currentMenu(): Promise<{ version: number; menu: IvrMenu } | null> {
    const row = await this.repo.current(this.db);
    return row ? { version: row.version, menu: row.document as IvrMenu } : null;
  }
}

function toPublic(r: MenuVersionRow): MenuVersion {
  return { version: r.version, document: r.document as IvrMenu, note: r.note, createdBy: r.createdBy, createdAt: r.createdAt.toISOString() };
}
