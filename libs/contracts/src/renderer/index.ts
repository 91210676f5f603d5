export * from './renderer-events.dto.js';
