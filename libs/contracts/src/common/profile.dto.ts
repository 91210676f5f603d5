import { IsInt, IsObject, IsString, Length, Min } from 'class-validator';

/** The profile as enrichment knows it at one moment: what later stages decide and render on. */
export class ProfileSnapshotDto {
  @IsString() @Length(1, 128) profileId!: string;
  /** Reserved and custom traits (EVENTS.md), keys as the customer sent them. */
  @IsObject() traits!: Record<string, unknown>;
  /** Computed attributes (RFM, engagement, affinity, cart state…). */
  @IsObject() computed!: Record<string, unknown>;
  @IsInt() @Min(0) version!: number;
}
