export * from './overflow.js';
export * from './priority.js';
export * from './queue-config.js';
export * from './skills.js';
