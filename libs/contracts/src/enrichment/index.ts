export * from './enrichment-events.dto.js';
