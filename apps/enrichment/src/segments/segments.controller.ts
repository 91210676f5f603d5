import {
  Body,
  ConflictException,
  Controller,
  DefaultValuePipe,
  Delete,
  Get,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { ProfilesRepository } from '../profiles/profiles.repository.js';
import { Clock } from '../shared/clock.js';
import { BackfillSegmentUseCase } from './backfill-segment.usecase.js';
import { type Segment } from './segment.js';
import { CreateSegmentDto, SegmentBodyDto } from './segment.dto.js';
import { SegmentRegistry } from './segment-registry.js';
import { SegmentsRepository } from './segments.repository.js';

const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

@Controller('api/segments')
@UseGuards(AdminTokenGuard)
export class SegmentsController {
  private readonly logger = new Logger(SegmentsController.name);

  constructor(
    private readonly segments: SegmentsRepository,
    private readonly registry: SegmentRegistry,
    private readonly profiles: ProfilesRepository,
    private readonly backfill: BackfillSegmentUseCase,
    private readonly clock: Clock,
  ) {}

  /** Creates a segment and back-fills it over the existing profiles in the background. */
  @Post()
  async create(@Body() body: CreateSegmentDto): Promise<Segment & { backfill: 'started' }> {
    const segment: Segment = { ...plain(body), createdAt: new Date(this.clock.now()).toISOString() };
    if (!(await this.segments.create(segment))) {
      throw new ConflictException({
        error: 'segment_exists',
        message: `segment ${segment.segmentId} exists`,
      });
    }
    await this.registry.changed();
    this.startBackfill(segment);
    return { ...segment, backfill: 'started' };
  }

  @Get()
  list(): Promise<Segment[]> {
    return this.segments.all();
  }

  @Get(':segmentId')
  async get(@Param('segmentId') segmentId: string): Promise<Segment> {
    return this.existing(segmentId);
  }

  @Put(':segmentId')
  async replace(@Param('segmentId') segmentId: string, @Body() body: SegmentBodyDto): Promise<Segment> {
    const current = await this.existing(segmentId);
    const segment: Segment = { ...plain(body), segmentId, createdAt: current.createdAt };
    await this.segments.replace(segment);
    await this.registry.changed();
    this.startBackfill(segment);
    return segment;
  }

  @Delete(':segmentId')
  @HttpCode(204)
  async remove(@Param('segmentId') segmentId: string): Promise<void> {
    if (!(await this.segments.remove(segmentId))) throw this.notFound(segmentId);
    await this.registry.changed();
  }

  @Get(':segmentId/count')
  async count(@Param('segmentId') segmentId: string): Promise<{ segmentId: string; count: number }> {
    await this.existing(segmentId);
    return { segmentId, count: await this.profiles.countMembers(segmentId) };
  }

  /** Members in profile id order; pass the last id as `after` for the next page. */
  @Get(':segmentId/members')
  async members(
    @Param('segmentId') segmentId: string,
    @Query('after') after?: string,
    @Query('limit', new DefaultValuePipe(100), ParseIntPipe) limit = 100,
  ): Promise<{ segmentId: string; profileIds: string[]; next?: string }> {
    await this.existing(segmentId);
    const size = Math.min(Math.max(limit, 1), 1000);
    const profileIds = await this.profiles.memberIds(segmentId, after, size);
    const next = profileIds.length === size ? profileIds[profileIds.length - 1] : undefined;
    return { segmentId, profileIds, ...(next ? { next } : {}) };
  }

  private startBackfill(segment: Segment): void {
    this.backfill.execute(segment).catch((error: unknown) => {
      this.logger.error(`back-fill of segment ${segment.segmentId} failed: ${String(error)}`);
    });
  }

  private async existing(segmentId: string): Promise<Segment> {
    const segment = await this.segments.get(segmentId);
    if (!segment) throw this.notFound(segmentId);
    return segment;
  }

  private notFound(segmentId: string): NotFoundException {
    return new NotFoundException({ error: 'segment_not_found', message: `no segment ${segmentId}` });
  }
}
