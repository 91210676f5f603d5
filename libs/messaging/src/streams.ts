import { type ServiceName } from '@mesh/contracts';

export interface StreamDefinition {
  readonly name: string;
  readonly subjects: readonly string[];
  /** Who publishes into it (ARCHITECTURE.md, "Subjects and streams"). */
  readonly producer: ServiceName | 'each service';
  readonly maxAgeDays: number;
  readonly maxBytes: number;
}

const GiB = 1024 ** 3;

/** The streams of ARCHITECTURE.md; every service provisions all of them at boot (idempotent). */
export const STREAMS: readonly StreamDefinition[] = [
  { name: 'INGEST', subjects: ['ingest.>'], producer: 'ingest', maxAgeDays: 7, maxBytes: 20 * GiB },
  { name: 'IDENTITY', subjects: ['identity.>'], producer: 'identity', maxAgeDays: 7, maxBytes: 20 * GiB },
  {
    name: 'ENRICHMENT',
    subjects: ['enrichment.>'],
    producer: 'enrichment',
    maxAgeDays: 7,
    maxBytes: 20 * GiB,
  },
  {
    name: 'RECOMMENDATION',
    subjects: ['recommendation.>'],
    producer: 'recommendation',
    maxAgeDays: 7,
    maxBytes: 10 * GiB,
  },
  { name: 'RENDERER', subjects: ['renderer.>'], producer: 'renderer', maxAgeDays: 7, maxBytes: 20 * GiB },
  { name: 'DELIVERY', subjects: ['delivery.>'], producer: 'delivery', maxAgeDays: 30, maxBytes: 20 * GiB },
  { name: 'PRIVACY', subjects: ['privacy.>'], producer: 'each service', maxAgeDays: 30, maxBytes: 1 * GiB },
  { name: 'DLQ', subjects: ['dlq.>'], producer: 'each service', maxAgeDays: 30, maxBytes: 5 * GiB },
];

/** The stream a subject or subject filter lives in (streams are split by the first token). */
export function streamFor(subjectOrFilter: string): StreamDefinition {
  const head = subjectOrFilter.split('.')[0];
  const stream = STREAMS.find((candidate) =>
    candidate.subjects.some((subject) => subject.split('.')[0] === head),
  );
  if (!stream) throw new Error(`no stream holds subject "${subjectOrFilter}"`);
  return stream;
}

/** A durable consumer's name: one per (service, subject filter). */
export function durableName(service: ServiceName, filter: string): string {
  return `${service}__${filter.replaceAll('.', '_').replaceAll('*', 'any').replaceAll('>', 'all')}`;
}
