export * from './local-date.js';
export * from './calendar-data.js';
export * from './working-calendar.js';
export * from './limits.js';
export * from './sla.js';
export * from './example-calendar.js';
