import { type Rule } from '../rules/rule.js';

export interface Segment {
  segmentId: string;
  name: string;
  rule: Rule;
  createdAt: string;
}
