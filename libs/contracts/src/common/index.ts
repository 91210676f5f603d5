export * from './product.dto.js';
export * from './profile.dto.js';
