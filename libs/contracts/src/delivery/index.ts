export * from './delivery-events.dto.js';
