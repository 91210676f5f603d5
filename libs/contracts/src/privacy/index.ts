export * from './privacy-events.dto.js';
