import { IsString, Length, Matches } from 'class-validator';

export class SplitRequestBody {
  @IsString()
  @Length(1, 128)
  @Matches(/^[A-Za-z0-9._:-]+$/, { message: 'mergeId must be a merge id' })
  mergeId!: string;
}
