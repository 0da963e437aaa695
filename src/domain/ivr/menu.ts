/**
 * The IVR menu as data: nodes that play prompts and map keys to actions. Kept shallow on purpose
 * (at most two levels; the standards discourage deep trees), `0` reaches an agent from
 * anywhere, and no input sends the caller to the default queue. Pure: the caller supplies the
 * prompt ids of the catalogue and the codes of the active queues.
 */

export const IVR_DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'] as const;
export type IvrDigit = (typeof IVR_DIGITS)[number];

export const IVR_ACTIONS = ['queue', 'submenu', 'progress_query', 'callback', 'repeat', 'operator'] as const;
export type IvrActionType = (typeof IVR_ACTIONS)[number];

export type IvrAction =
  | { readonly action: 'queue'; readonly queue: string; readonly promptId?: string }
  | { readonly action: 'submenu'; readonly node: string }
  | { readonly action: 'progress_query' }
  | { readonly action: 'callback' }
  | { readonly action: 'repeat' }
  /** To an agent through the default queue; what `0` always does. */
  | { readonly action: 'operator' };

export interface IvrNode {
  readonly id: string;
  /** Played in order each time the node is entered or repeated. */
  readonly promptIds: readonly string[];
  readonly timeoutSeconds: number;
  /** How many more times the node is played after an invalid key or no input. */
  readonly maxRetries: number;
  readonly options: Readonly<Partial<Record<string, IvrAction>>>;
  /** After the retries run out without input; default: the menu's default queue. */
  readonly noInput?: IvrAction;
}

export interface IvrMenu {
  readonly rootNodeId: string;
  /** Queue code for no input and for `operator`. */
  readonly defaultQueue: string;
  readonly nodes: readonly IvrNode[];
}

export const IVR_LIMITS = {
  maxDepth: 2,
  maxNodes: 20,
  maxPromptsPerNode: 5,
  timeoutSeconds: { min: 2, max: 20 },
  maxRetries: { min: 0, max: 3 },
} as const;
export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export interface MenuProblem {
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

export interface MenuReferences {
  readonly promptIds: ReadonlySet<string>;
  /** Codes of active queues. */
  readonly queueCodes: ReadonlySet<string>;
}

const OPERATOR: IvrAction = { action: 'operator' };

function checkAction(a: IvrAction, path: string, nodes: ReadonlySet<string>, refs: MenuReferences, out: MenuProblem[]): void {
  switch (a.action) {
    case 'queue':
      if (typeof a.queue !== 'string') out.push({ code: 'ivr_action_target_required', path, message: 'A queue action names the queue (its code)' });
      else if (!refs.queueCodes.has(a.queue)) out.push({ code: 'ivr_unknown_queue', path, message: `No active queue with code '${a.queue}'` });
      if (a.promptId !== undefined && !refs.promptIds.has(a.promptId)) out.push({ code: 'ivr_unknown_prompt', path, message: `No prompt '${a.promptId}' in prompts.json` });
      return;
    case 'submenu':
      if (typeof a.node !== 'string') out.push({ code: 'ivr_action_target_required', path, message: 'A submenu action names the node' });
      else if (!nodes.has(a.node)) out.push({ code: 'ivr_unknown_node', path, message: `No node '${a.node}'` });
      return;
    case 'progress_query':
    case 'callback':
    case 'repeat':
    case 'operator':
      return;
    default:
      out.push({ code: 'ivr_invalid_action', path, message: `Unknown action '${String((a as { action: unknown }).action)}'; one of ${IVR_ACTIONS.join(', ')}` });
  }
}

/** Depth of each node reachable from the root (root = 1), by shortest path. */
export function nodeDepths(menu: IvrMenu): Map<string, number> {
  const byId = new Map(menu.nodes.map((n) => [n.id, n]));
  const depth = new Map<string, number>([[menu.rootNodeId, 1]]);
  const queue = [menu.rootNodeId];
  while (queue.length > 0) {
    const id = queue.shift()!;
    const node = byId.get(id);
    if (!node) continue;
    for (const a of [...Object.values(node.options), node.noInput]) {
      if (a?.action === 'submenu' && byId.has(a.node) && !depth.has(a.node)) {
        depth.set(a.node, depth.get(id)! + 1);
        queue.push(a.node);
      }
    }
  }
  return depth;
}

/** Every problem with the menu; empty when it can be published. */
export function validateIvrMenu(menu: IvrMenu, refs: MenuReferences): MenuProblem[] {
  const out: MenuProblem[] = [];
  const ids = new Set<string>();
  if (menu.nodes.length === 0 || menu.nodes.length > IVR_LIMITS.maxNodes) {
    out.push({ code: 'ivr_node_count', path: '/nodes', message: `A menu has 1 to ${IVR_LIMITS.maxNodes} nodes` });
  }
  menu.nodes.forEach((n, i) => {
    if (!NODE_ID_PATTERN.test(n.id)) out.push({ code: 'ivr_invalid_node_id', path: `/nodes/${i}/id`, message: `Node id '${n.id}' must match ${String(NODE_ID_PATTERN)}` });
    if (ids.has(n.id)) out.push({ code: 'ivr_duplicate_node', path: `/nodes/${i}/id`, message: `Node id '${n.id}' is used twice` });
    ids.add(n.id);
  });
  if (!ids.has(menu.rootNodeId)) out.push({ code: 'ivr_root_missing', path: '/rootNodeId', message: `The root node '${menu.rootNodeId}' is not among the nodes` });
  if (!refs.queueCodes.has(menu.defaultQueue)) out.push({ code: 'ivr_unknown_queue', path: '/defaultQueue', message: `No active queue with code '${menu.defaultQueue}'` });

  menu.nodes.forEach((n, i) => {
    const at = `/nodes/${i}`;
    if (n.promptIds.length === 0 || n.promptIds.length > IVR_LIMITS.maxPromptsPerNode) {
      out.push({ code: 'ivr_prompt_count', path: `${at}/promptIds`, message: `A node plays 1 to ${IVR_LIMITS.maxPromptsPerNode} prompts` });
    }
    n.promptIds.forEach((p, j) => {
      if (!refs.promptIds.has(p)) out.push({ code: 'ivr_unknown_prompt', path: `${at}/promptIds/${j}`, message: `No prompt '${p}' in prompts.json` });
    });
    const { min, max } = IVR_LIMITS.timeoutSeconds;
    if (!Number.isInteger(n.timeoutSeconds) || n.timeoutSeconds < min || n.timeoutSeconds > max) {
      out.push({ code: 'ivr_timeout_out_of_range', path: `${at}/timeoutSeconds`, message: `timeoutSeconds must be ${min}-${max}` });
    }
    if (!Number.isInteger(n.maxRetries) || n.maxRetries < IVR_LIMITS.maxRetries.min || n.maxRetries > IVR_LIMITS.maxRetries.max) {
      out.push({ code: 'ivr_retries_out_of_range', path: `${at}/maxRetries`, message: `maxRetries must be ${IVR_LIMITS.maxRetries.min}-${IVR_LIMITS.maxRetries.max}` });
    }
    for (const [digit, action] of Object.entries(n.options)) {
      const path = `${at}/options/${digit}`;
      if (!(IVR_DIGITS as readonly string[]).includes(digit)) {
        out.push({ code: 'ivr_invalid_digit', path, message: `'${digit}' is not a key: use 0-9, * or #` });
        continue;
      }
      if (!action) continue;
      if (digit === '0' && action.action !== 'operator') {
        out.push({ code: 'ivr_zero_reserved', path, message: '0 always reaches an agent; it cannot be given another action' });
      }
      checkAction(action, path, ids, refs, out);
    }
    if (n.noInput) {
      if (n.noInput.action === 'repeat') out.push({ code: 'ivr_invalid_action', path: `${at}/noInput`, message: 'No input cannot repeat forever; retries already repeat the node' });
      else checkAction(n.noInput, `${at}/noInput`, ids, refs, out);
    }
  });

  if (ids.has(menu.rootNodeId)) {
    const depths = nodeDepths(menu);
    menu.nodes.forEach((n, i) => {
      const d = depths.get(n.id);
      if (d === undefined) out.push({ code: 'ivr_unreachable_node', path: `/nodes/${i}`, message: `Node '${n.id}' cannot be reached from '${menu.rootNodeId}'` });
      else if (d > IVR_LIMITS.maxDepth) out.push({ code: 'ivr_menu_too_deep', path: `/nodes/${i}`, message: `Node '${n.id}' is ${d} levels deep; at most ${IVR_LIMITS.maxDepth}` });
    });
  }
  return out;
}

/** What a key does in a node: `0` always reaches an agent; null = not a choice here (invalid). */
export function resolveDigit(menu: IvrMenu, nodeId: string, digit: string): IvrAction | null {
  if (digit === '0') return OPERATOR;
  return menu.nodes.find((n) => n.id === nodeId)?.options[digit] ?? null;
}

/** Where a caller goes when the node's retries run out without input. */
export function noInputAction(menu: IvrMenu, nodeId: string): IvrAction {
  return menu.nodes.find((n) => n.id === nodeId)?.noInput ?? { action: 'queue', queue: menu.defaultQueue };
}

/** Queue codes the menu sends callers to (a queue in this set must not be deactivated). */
export function queueCodesOf(menu: IvrMenu): Set<string> {
  const codes = new Set([menu.defaultQueue]);
  for (const n of menu.nodes) for (const a of [...Object.values(n.options), n.noInput]) if (a?.action === 'queue') codes.add(a.queue);
  return codes;
}
