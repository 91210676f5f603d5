import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class BroadcastDto {
  /** Names this send: each member gets it at most once (the trigger key is `broadcast:<id>`). */
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, {
    message: '$property must be 1–128 letters, digits, "-" or "_", starting with a letter or digit',
  })
  broadcastId!: string;

  /** Send intents per second (default 100). */
  @IsOptional() @IsInt() @Min(1) @Max(10_000) ratePerSecond?: number;
}
