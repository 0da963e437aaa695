import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IVR_DIGITS, nodeDepths, noInputAction, queueCodesOf, resolveDigit, validateIvrMenu, type IvrMenu, type IvrNode } from './menu.js';
import { parsePromptCatalogJson } from './prompts.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const catalog = parsePromptCatalogJson(readFileSync(path.join(root, 'prompts/prompts.json'), 'utf8'));
const refs = { promptIds: new Set(catalog.ids), queueCodes: new Set(['GENERAL', 'ENTERPRISE', 'ENGLISH']) };

const node = (id: string, options: IvrNode['options'], extra: Partial<IvrNode> = {}): IvrNode => ({ id, promptIds: ['menu-main'], timeoutSeconds: 5, maxRetries: 2, options, ...extra });
// The shipped main menu (prompt menu-main): 0 agent, 1 progress, 2 enterprise, 9 English.
const menu: IvrMenu = {
  rootNodeId: 'main',
  defaultQueue: 'GENERAL',
  nodes: [
    node('main', {
      0: { action: 'operator' },
      1: { action: 'progress_query' },
      2: { action: 'submenu', node: 'enterprise' },
      9: { action: 'queue', queue: 'ENGLISH', promptId: 'connecting-foreign-language' },
      '*': { action: 'repeat' },
    }, { promptIds: ['menu-main', 'menu-language'] }),
    node('enterprise', {
      1: { action: 'queue', queue: 'ENTERPRISE', promptId: 'connecting-business' },
      2: { action: 'callback' },
      '#': { action: 'submenu', node: 'main' },
    }, { promptIds: ['menu-agent-anytime'], noInput: { action: 'queue', queue: 'ENTERPRISE' } }),
  ],
};
const codes = (m: IvrMenu) => validateIvrMenu(m, refs).map((p) => p.code);
const withNodes = (nodes: IvrNode[], patch: Partial<IvrMenu> = {}): IvrMenu => ({ ...menu, nodes, ...patch });

describe('IVR menu validation', () => {
  it('accepts the shipped menu', () => {
    expect(validateIvrMenu(menu, refs)).toEqual([]);
  });

  it('accepts every key 0-9 * #', () => {
    const options = Object.fromEntries(IVR_DIGITS.map((d) => [d, d === '0' ? { action: 'operator' as const } : { action: 'repeat' as const }]));
    expect(codes(withNodes([node('main', options)]))).toEqual([]);
  });

  it.each(['a', '10', '', '+'])('refuses the key %j', (digit) => {
    expect(codes(withNodes([node('main', { [digit]: { action: 'repeat' } })]))).toEqual(['ivr_invalid_digit']);
  });

  it('keeps 0 for the agent', () => {
    expect(codes(withNodes([node('main', { 0: { action: 'progress_query' } })]))).toEqual(['ivr_zero_reserved']);
  });

  it('checks that queues, nodes and prompts exist', () => {
    expect(codes(withNodes([node('main', { 1: { action: 'queue', queue: 'NOPE' } })]))).toEqual(['ivr_unknown_queue']);
    expect(codes(withNodes([node('main', { 1: { action: 'submenu', node: 'ghost' } })]))).toEqual(['ivr_unknown_node']);
    expect(codes(withNodes([node('main', {}, { promptIds: ['menu-main', 'no-such-prompt'] })]))).toEqual(['ivr_unknown_prompt']);
    expect(codes(withNodes([node('main', { 1: { action: 'queue', queue: 'GENERAL', promptId: 'nope' } })]))).toEqual(['ivr_unknown_prompt']);
    expect(codes({ ...menu, defaultQueue: 'NOPE' })).toEqual(['ivr_unknown_queue']);
    expect(codes({ ...menu, rootNodeId: 'start' })).toContain('ivr_root_missing');
    expect(codes(withNodes([node('main', { 1: { action: 'dance' } as never })]))).toEqual(['ivr_invalid_action']);
    expect(codes(withNodes([node('main', { 1: { action: 'queue' } as never, 2: { action: 'submenu' } as never })]))).toEqual(['ivr_action_target_required', 'ivr_action_target_required']);
  });

  it('refuses unreachable nodes', () => {
    expect(codes(withNodes([node('main', {}), node('orphan', {})]))).toEqual(['ivr_unreachable_node']);
  });

  it('refuses menus deeper than two levels, but allows going back up', () => {
    const deep = withNodes([
      node('main', { 1: { action: 'submenu', node: 'a' } }),
      node('a', { 1: { action: 'submenu', node: 'b' }, '#': { action: 'submenu', node: 'main' } }),
      node('b', {}),
    ]);
    expect(validateIvrMenu(deep, refs)).toEqual([expect.objectContaining({ code: 'ivr_menu_too_deep', path: '/nodes/2' })]);
    expect(nodeDepths(deep)).toEqual(new Map([['main', 1], ['a', 2], ['b', 3]]));
  });

  it('bounds timeouts, retries, prompts and node ids', () => {
    expect(codes(withNodes([node('main', {}, { timeoutSeconds: 1 })]))).toEqual(['ivr_timeout_out_of_range']);
    expect(codes(withNodes([node('main', {}, { maxRetries: 4 })]))).toEqual(['ivr_retries_out_of_range']);
    expect(codes(withNodes([node('main', {}, { promptIds: [] })]))).toEqual(['ivr_prompt_count']);
    expect(codes(withNodes([node('Main Menu', {})], { rootNodeId: 'Main Menu' }))).toEqual(['ivr_invalid_node_id']);
    expect(codes(withNodes([node('main', {}), node('main', {})]))).toContain('ivr_duplicate_node');
    expect(codes(withNodes(Array.from({ length: 21 }, (_, i) => node(i === 0 ? 'main' : `n${i}`, i === 0 ? Object.fromEntries(Array.from({ length: 9 }, (_, k) => [String(k + 1), { action: 'submenu' as const, node: `n${k + 1}` }])) : {}))))).toContain('ivr_node_count');
  });

  it('refuses a no-input action that repeats forever', () => {
    expect(codes(withNodes([node('main', {}, { noInput: { action: 'repeat' } })]))).toEqual(['ivr_invalid_action']);
  });
});

describe('IVR menu at run time', () => {
  it('0 reaches an agent from every node, even when not listed', () => {
    expect(resolveDigit(menu, 'enterprise', '0')).toEqual({ action: 'operator' });
    expect(resolveDigit(menu, 'main', '0')).toEqual({ action: 'operator' });
  });

  it('resolves keys and reports invalid ones as null', () => {
    expect(resolveDigit(menu, 'main', '2')).toEqual({ action: 'submenu', node: 'enterprise' });
    expect(resolveDigit(menu, 'main', '7')).toBeNull();
    expect(resolveDigit(menu, 'ghost', '1')).toBeNull();
  });

  it('sends callers without input to the default queue unless the node says otherwise', () => {
    expect(noInputAction(menu, 'main')).toEqual({ action: 'queue', queue: 'GENERAL' });
    expect(noInputAction(menu, 'enterprise')).toEqual({ action: 'queue', queue: 'ENTERPRISE' });
  });

  it('lists the queues the menu uses', () => {
    expect(queueCodesOf(menu)).toEqual(new Set(['GENERAL', 'ENGLISH', 'ENTERPRISE']));
  });
});
