import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { SegmentsRepository } from '../segments/segments.repository.js';
import { type Campaign } from './campaign.js';
import { CampaignBodyDto, CreateCampaignDto } from './campaign.dto.js';
import { CampaignRegistry } from './campaign-registry.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { type Broadcast, BroadcastsRepository } from './broadcasts.repository.js';
import { RunBroadcastUseCase } from './run-broadcast.usecase.js';
import { BroadcastDto } from './broadcast.dto.js';

/** Plain JSON of a validated DTO (class instances would carry their prototypes into storage). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

@Controller('api/campaigns')
@UseGuards(AdminTokenGuard)
export class CampaignsController {
  constructor(
    private readonly campaigns: CampaignsRepository,
    private readonly registry: CampaignRegistry,
    private readonly segments: SegmentsRepository,
    private readonly broadcasts: BroadcastsRepository,
    private readonly runner: RunBroadcastUseCase,
  ) {}

  /** Sends the campaign to its audience segment's members now, paged and throttled. */
  @Post(':campaignId/broadcasts')
  @HttpCode(202)
  async broadcast(@Param('campaignId') campaignId: string, @Body() body: BroadcastDto): Promise<Broadcast> {
    const campaign = await this.get(campaignId);
    if (!campaign.audience) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'the request is not valid',
        fields: { audience: ['a broadcast needs the campaign to have an audience segment'] },
      });
    }
    const broadcast: Broadcast = {
      broadcastId: body.broadcastId,
      campaignId,
      segmentId: campaign.audience.segmentId,
      ratePerSecond: body.ratePerSecond ?? 100,
      status: 'running',
      sent: 0,
      heldOut: 0,
      startedAt: new Date().toISOString(),
    };
    if (!(await this.broadcasts.create(broadcast))) {
      throw new ConflictException({
        error: 'broadcast_exists',
        message: `broadcast ${body.broadcastId} exists`,
      });
    }
    this.runner.start(broadcast);
    return broadcast;
  }

  @Get(':campaignId/broadcasts/:broadcastId')
  async broadcastStatus(@Param('broadcastId') broadcastId: string): Promise<Broadcast> {
    const broadcast = await this.broadcasts.get(broadcastId);
    if (!broadcast)
      throw new NotFoundException({ error: 'broadcast_not_found', message: `no broadcast ${broadcastId}` });
    return broadcast;
  }

  @Post()
  async create(@Body() body: CreateCampaignDto): Promise<Campaign> {
    const campaign = await this.checked(plain(body));
    if (!(await this.campaigns.create(campaign))) {
      throw new ConflictException({
        error: 'campaign_exists',
        message: `campaign ${campaign.campaignId} exists`,
      });
    }
    await this.registry.changed();
    return campaign;
  }

  @Get()
  list(): Promise<Campaign[]> {
    return this.campaigns.all();
  }

  @Get(':campaignId')
  async get(@Param('campaignId') campaignId: string): Promise<Campaign> {
    const campaign = await this.campaigns.get(campaignId);
    if (!campaign) throw this.notFound(campaignId);
    return campaign;
  }

  @Put(':campaignId')
  async replace(@Param('campaignId') campaignId: string, @Body() body: CampaignBodyDto): Promise<Campaign> {
    const campaign = await this.checked({ ...plain(body), campaignId });
    await this.campaigns.save(campaign);
    await this.registry.changed();
    return campaign;
  }

  @Delete(':campaignId')
  @HttpCode(204)
  async remove(@Param('campaignId') campaignId: string): Promise<void> {
    if (!(await this.campaigns.remove(campaignId))) throw this.notFound(campaignId);
    await this.registry.changed();
  }

  private async checked(campaign: Campaign): Promise<Campaign> {
    const fields: Record<string, string[]> = {};
    if (campaign.audience && !(await this.segments.get(campaign.audience.segmentId))) {
      fields['audience.segmentId'] = [`no segment ${campaign.audience.segmentId}`];
    }
    if (campaign.reentry?.mode === 'cooldown' && campaign.reentry.cooldownSeconds === undefined) {
      fields['reentry.cooldownSeconds'] = ['is required for mode "cooldown"'];
    }
    if (Object.keys(fields).length > 0) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: 'the request is not valid',
        fields,
      });
    }
    return campaign;
  }

  private notFound(campaignId: string): NotFoundException {
    return new NotFoundException({ error: 'campaign_not_found', message: `no campaign ${campaignId}` });
  }
}
