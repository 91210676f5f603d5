export * from './recommendation-events.dto.js';
