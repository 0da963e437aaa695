/**
 * Enforces the SIP block list in Asterisk through a PJSIP ACL file plus a reload over AMI.
 *
 * What this relies on (Asterisk documentation):
 * - res_pjsip_acl: a pjsip.conf section with `type=acl` and `deny=` lines applies to all
 *   inbound SIP traffic handled by res_pjsip, independent of endpoints.
 * - Asterisk configuration files can pull in another file with `#include`; the shipped
 *   pjsip.conf must include the file written here (e.g. `#include hotline-blocklist.conf`),
 *   and deployment must create it (empty) before Asterisk starts.
 * - Reloading res_pjsip re-reads pjsip.conf for every sorcery object type it holds, `acl`
 *   included (res_pjsip_acl registers `acl` on res_pjsip's sorcery instance; the reload calls
 *   ast_sorcery_reload, which reloads every type). Not yet confirmed on a live Asterisk 23.
 * - The reload is the AMI `Reload` action with `Module: res_pjsip.so` (manager.c's action_reload
 *   calls ast_module_reload, as the CLI `module reload` does). It needs the manager.conf write
 *   class `system` (or `config`); `system` is needed anyway for the PJSIPShow* listings, so the
 *   AMI user never needs `command` (which would allow any CLI command).
 * The file is replaced atomically (write + rename) so Asterisk never reads half of it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AclApplier, BlockEntry } from '../../domain/security/index.js';
import { parseIp } from '../../domain/security/index.js';
import type { AmiClient } from './types.js';

export interface FileAclApplierOptions {
  readonly filePath: string;
  /** pjsip.conf section name (must not clash with other sections). */
  readonly section?: string;
  /** Module the `Reload` action reloads (default `res_pjsip.so`). */
  readonly reloadModule?: string;
}

export function renderAclFile(entries: readonly BlockEntry[], section = 'hotline-blocklist'): string {
  const lines = [
    '; Managed by the hotline service (SIP security monitor). Rewritten on every change: do not edit.',
    `; ${entries.length} blocked source(s).`,
  ];
  if (entries.length > 0) {
    lines.push(`[${section}]`, 'type=acl');
    for (const e of entries) {
      const ip = parseIp(e.address);
      if (!ip) continue;
      lines.push(`; until ${new Date(e.expiresAt).toISOString()}: ${e.reason.replace(/[\r\n]/g, ' ')}`);
      lines.push(`deny=${ip.text}/${ip.family === 6 ? 128 : 32}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export class FileAclApplier implements AclApplier {
  private written: string | undefined;
  private reloadPending = false;

  constructor(
    private readonly ami: Pick<AmiClient, 'action'>,
    private readonly logger: Logger,
    private readonly options: FileAclApplierOptions,
  ) {}

  async apply(entries: readonly BlockEntry[]): Promise<void> {
    const content = renderAclFile(entries, this.options.section);
    // First call: a file already holding exactly this needs no rewrite and no reload.
    this.written ??= await readFile(this.options.filePath, 'utf8').catch(() => '');
    if (content !== this.written) {
      const { filePath } = this.options;
      await mkdir(dirname(filePath), { recursive: true });
      const tmp = `${filePath}.${process.pid}.tmp`;
      await writeFile(tmp, content, { mode: 0o644 });
      await rename(tmp, filePath);
      this.written = content;
      this.reloadPending = true;
    }
    if (!this.reloadPending) return;
    const module = this.options.reloadModule ?? 'res_pjsip.so';
    const response = await this.ami.action('Reload', { Module: module });
    this.reloadPending = false;
    this.logger.info({ blocked: entries.length, module, message: response.message }, 'SIP block list applied');
  }
}
