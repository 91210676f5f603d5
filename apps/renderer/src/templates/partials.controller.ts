import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from '@mesh/runtime';
import { PartialsRepository, type PartialView } from './partials.repository.js';
import { PartialDto, PartialNameDto } from './template-draft.dto.js';

/** Partials and layouts by name: saving one raises its version; published templates keep theirs. */
@Controller('api/partials')
@UseGuards(AdminTokenGuard)
export class PartialsController {
  constructor(private readonly partials: PartialsRepository) {}

  @Get()
  list(): Promise<PartialView[]> {
    return this.partials.list();
  }

  @Put(':name')
  save(@Param() { name }: PartialNameDto, @Body() partial: PartialDto): Promise<PartialView> {
    return this.partials.save(name, partial.source);
  }
}
