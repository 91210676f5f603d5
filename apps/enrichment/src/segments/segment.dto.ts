import { IsString, Length, Matches } from 'class-validator';
import { IsRule } from '../rules/is-rule.decorator.js';
import { type Rule } from '../rules/rule.js';

export class SegmentBodyDto {
  @IsString() @Length(1, 256) name!: string;
  @IsRule() rule!: Rule;
}

export class CreateSegmentDto extends SegmentBodyDto {
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, {
    message: '$property must be 1–128 letters, digits, "-" or "_", starting with a letter or digit',
  })
  segmentId!: string;
}
