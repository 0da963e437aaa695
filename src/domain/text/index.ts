export * from './normalize.js';
export * from './stopwords.js';
export * from './segmenter.js';
export * from './search.js';
export * from './similarity.js';
export * from './duplicates.js';
export * from './redact.js';
