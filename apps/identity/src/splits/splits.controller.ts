import {
  Body,
  ConflictException,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { type ProfileSplitPayload } from '@mesh/contracts';
import { AdminTokenGuard } from '@mesh/runtime';
import { ProfileIdParams } from '../profiles/profile-query.dto.js';
import { SplitRequestBody } from './split-request.dto.js';
import { SplitError, SplitErrorCode, SplitMergeUseCase } from './split-merge.usecase.js';

@Controller('api/profiles')
@UseGuards(AdminTokenGuard)
export class SplitsController {
  constructor(private readonly split: SplitMergeUseCase) {}

  /** Undoes one of the profile's merges (the profile is its survivor or one of the merged ones). */
  @Post(':id/split')
  @HttpCode(200)
  async create(
    @Param() params: ProfileIdParams,
    @Body() body: SplitRequestBody,
  ): Promise<ProfileSplitPayload> {
    try {
      return await this.split.execute(params.id, body.mergeId);
    } catch (error) {
      if (!(error instanceof SplitError)) throw error;
      const answer = { error: error.code.toLowerCase(), message: error.message, ...(error.split ?? {}) };
      if (error.code === SplitErrorCode.UNKNOWN_MERGE) throw new NotFoundException(answer);
      throw new ConflictException(answer);
    }
  }
}
