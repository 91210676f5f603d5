import { type IdentifierDto } from '@mesh/contracts';

export interface MergeView {
  mergeId: string;
  survivorId: string;
  mergedIds: string[];
  reason: string;
  evidence: IdentifierDto[];
  at: string;
}

export interface ProfileView {
  id: string;
  /** Set when the id asked for was merged: the id asked for (the answer is its survivor). */
  requestedId?: string;
  identifiers: IdentifierDto[];
  firstSeen: string;
  lastSeen: string;
  version: number;
  /** Every merge that formed this profile, oldest first. */
  merges: MergeView[];
}
