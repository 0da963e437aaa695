/**
 * Request validation with two Ajv instances: query strings, params and headers are text, so
 * their values are coerced to the schema's types ("5" → 5, one value → [value]); JSON bodies
 * already carry types and are not coerced. With coercion on, Ajv turns a body's `null` into 0
 * for `integer | null` (the first branch of the anyOf wins), so "never offer a callback" would
 * become "offer one at once".
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type ValidatorFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;

export function buildValidatorFactory(ajvOptions: Record<string, unknown>): ValidatorFactory {
  const pool = AjvCompiler();
  return (externalSchemas, serverOptions) => {
    const options = serverOptions as { customOptions?: Record<string, unknown>; plugins?: unknown[] } | undefined;
    const base = { ...options, customOptions: { ...options?.customOptions, ...ajvOptions } };
    const text = pool(externalSchemas, { ...base, customOptions: { ...base.customOptions, coerceTypes: 'array' } } as never);
    const json = pool(externalSchemas, { ...base, customOptions: { ...base.customOptions, coerceTypes: false } } as never);
    return (route) => (route.httpPart === 'body' ? json(route) : text(route));
  };
}
