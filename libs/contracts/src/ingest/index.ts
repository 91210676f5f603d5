export * from './ingested-event.dto.js';
