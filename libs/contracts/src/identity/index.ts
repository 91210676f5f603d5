export * from './identity-events.dto.js';
