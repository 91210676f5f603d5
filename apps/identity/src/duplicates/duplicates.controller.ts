import {
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { CandidateIdParams, CandidateListQuery } from './duplicates-query.dto.js';
import {
  ReviewCandidateUseCase,
  ReviewError,
  ReviewErrorCode,
  type ReviewResult,
} from './review-candidate.usecase.js';

/** The review queue of fuzzy duplicates that scored below the auto-merge threshold. */
@Controller('api/duplicates')
@UseGuards(AdminTokenGuard)
export class DuplicatesController {
  constructor(private readonly review: ReviewCandidateUseCase) {}

  @Get()
  async list(@Query() query: CandidateListQuery) {
    const candidates = await this.review.pending(query.limit ?? 100);
    return {
      candidates: candidates.map((candidate) => ({
        candidateId: candidate._id,
        profileIds: candidate.profileIds,
        score: candidate.score,
        evidence: candidate.evidence,
        ...(candidate.refusal ? { refusal: candidate.refusal } : {}),
        createdAt: candidate.createdAt.toISOString(),
      })),
    };
  }

  @Post(':id/accept')
  @HttpCode(200)
  accept(@Param() params: CandidateIdParams): Promise<ReviewResult> {
    return answer(() => this.review.accept(params.id));
  }

  @Post(':id/reject')
  @HttpCode(200)
  reject(@Param() params: CandidateIdParams): Promise<ReviewResult> {
    return answer(() => this.review.reject(params.id));
  }
}

async function answer(decide: () => Promise<ReviewResult>): Promise<ReviewResult> {
  try {
    return await decide();
  } catch (error) {
    if (!(error instanceof ReviewError)) throw error;
    const body = { error: error.code.toLowerCase(), message: error.message };
    if (error.code === ReviewErrorCode.UNKNOWN_CANDIDATE) throw new NotFoundException(body);
    throw new ConflictException(body);
  }
}
