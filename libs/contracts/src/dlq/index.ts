export * from './dead-letter.dto.js';
