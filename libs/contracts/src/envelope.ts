import { IsISO8601, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import { deterministicId, newMessageId } from './ids.js';

/** The envelope every message travels in (ARCHITECTURE.md, "Messages"). */
export interface Envelope<T = unknown> {
  /** Unique id of this message; also its JetStream `Nats-Msg-Id`. */
  readonly id: string;
  /** e.g. `track`, `identify`, `profile.updated`, `campaign.triggered`. */
  readonly type: string;
  /** ISO-8601: when it happened at the source. */
  readonly occurredAt: string;
  /** ISO-8601: when ingest accepted it. */
  readonly receivedAt: string;
  /** The source (write key owner) it came from. */
  readonly source: string;
  /** Id of the original ingested event; constant along the whole chain. */
  readonly correlationId: string;
  /** Id of the message this one was produced from (its own id for an ingested event). */
  readonly causationId: string;
  /** The resolved profile, from identity onwards. */
  readonly profileId?: string;
  readonly data: T;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Validation rules of the envelope's own fields; `data` is validated against its subject's class. */
export class EnvelopeDto implements Envelope<Record<string, unknown>> {
  @IsString() @Length(1, 128) @Matches(ID) id!: string;
  @IsString() @Length(1, 64) type!: string;
  @IsISO8601({ strict: true }) occurredAt!: string;
  @IsISO8601({ strict: true }) receivedAt!: string;
  @IsString() @Length(1, 128) source!: string;
  @IsString() @Length(1, 128) @Matches(ID) correlationId!: string;
  @IsString() @Length(1, 128) @Matches(ID) causationId!: string;
  @IsOptional() @IsString() @Length(1, 128) profileId?: string;
  @IsObject() data!: Record<string, unknown>;
}

export interface OriginArgs<T> {
  /** Defaults to a fresh id; pass a deterministic one when the input can be retried. */
  id?: string;
  type: string;
  source: string;
  occurredAt: string;
  receivedAt?: string;
  profileId?: string;
  data: T;
}

/** The first envelope of a chain: it is its own correlation and causation. */
export function originEnvelope<T>(args: OriginArgs<T>): Envelope<T> {
  const id = args.id ?? newMessageId();
  return {
    id,
    type: args.type,
    occurredAt: args.occurredAt,
    receivedAt: args.receivedAt ?? new Date().toISOString(),
    source: args.source,
    correlationId: id,
    causationId: id,
    ...(args.profileId === undefined ? {} : { profileId: args.profileId }),
    data: args.data,
  };
}

export interface DeriveArgs<T> {
  /**
   * What distinguishes this output among the outputs of the same input (usually the subject, plus a
   * key when one input fans out). The id is a hash of the input id and this, so a redelivered input
   * yields the same id and the stream drops the copy.
   */
  stage: string;
  type: string;
  data: T;
  profileId?: string;
  occurredAt?: string;
}

/** An envelope produced from another one, keeping its correlation and tracing its causation. */
export function deriveEnvelope<T>(from: Envelope<unknown>, args: DeriveArgs<T>): Envelope<T> {
  const profileId = args.profileId ?? from.profileId;
  return {
    id: deterministicId(from.id, args.stage),
    type: args.type,
    occurredAt: args.occurredAt ?? from.occurredAt,
    receivedAt: from.receivedAt,
    source: from.source,
    correlationId: from.correlationId,
    causationId: from.id,
    ...(profileId === undefined ? {} : { profileId }),
    data: args.data,
  };
}
