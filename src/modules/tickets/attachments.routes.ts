import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { ValidationError } from '../../domain/errors.js';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { AttachmentRejectedError, type AttachmentsService } from './attachments.service.js';
import { AttachmentSchema, UploadQuery } from './tickets.schemas.js';

export async function attachmentsRoutes(app: App, opts: { attachments: AttachmentsService }): Promise<void> {
  const { attachments } = opts;
  // Scoped to these routes: one file per request, streamed to disk, never buffered whole.
  await app.register(multipart, { limits: { files: 1, fields: 5, fileSize: attachments.maxBytes + 1, parts: 6 } });

  app.post('/attachments', {
    schema: {
      tags: ['attachments'], summary: 'Upload one file (multipart field "file"): photo, document, audio or video; type by content, size per kind, deduplicated by SHA-256',
      consumes: ['multipart/form-data'], querystring: UploadQuery, response: { 201: AttachmentSchema, ...errorResponses(413, 415) },
    },
    config: { auth: { roles: ['agent', 'supervisor', 'admin', 'dept_handler', 'integrator'] }, audit: { action: 'attachment.upload', resource: 'attachment' } },
  }, async (req, reply) => {
    if (!req.isMultipart()) throw new ValidationError('Send the file as multipart/form-data in the field "file"', {}, 'multipart_required');
    let file;
    try {
      file = await req.file();
    } catch (err) {
      throw new ValidationError('The multipart body could not be read', { cause: (err as Error).message }, 'multipart_invalid');
    }
    if (!file) throw new ValidationError('No file in the request', { field: 'file' }, 'file_required');
    try {
      const saved = await attachments.upload({
        stream: file.file, fileName: file.filename ? file.filename.slice(0, 255) : null, declaredMime: file.mimetype, ...(req.query.kind ? { declaredKind: req.query.kind } : {}),
      }, principalOf(req));
      return await reply.code(201).send(saved);
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
        throw new AttachmentRejectedError(413, 'attachment_too_large', `Files are at most ${attachments.maxBytes} bytes`);
      }
      throw err;
    }
  });

  app.get('/attachments/:id', {
    schema: { tags: ['attachments'], summary: 'Download an attachment (audited): staff, the uploader, or a department holding a ticket it belongs to', params: IdParams,
      response: {
        // Streamed as stored, never serialized; Content-Type is the file's own (image/jpeg, application/pdf, audio/…, video/…).
        200: { description: 'The file', content: { '*/*': { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) } } },
        ...errorResponses(404),
      },
    },
    config: { auth: { roles: ['agent', 'supervisor', 'admin', 'dept_handler', 'integrator'] }, audit: { action: 'attachment.read', resource: 'attachment', sensitive: true } },
  }, async (req, reply) => {
    const { attachment, stream } = await attachments.open(req.params.id, principalOf(req));
    void reply.header('content-type', attachment.mime).header('x-content-type-options', 'nosniff')
      .header('content-disposition', `attachment; filename="${attachment.id}"`).header('etag', `"${attachment.sha256}"`);
    return reply.send(stream);
  });
}
