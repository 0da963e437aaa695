export * from './vocabulary.js';
export * from './acceptance.js';
export * from './model.js';
export * from './actions.js';
export * from './events.js';
export { PERMISSIONS, allowedActions, partiesOf, type Party } from './permissions.js';
export * from './lifecycle.js';
