import { Module } from '@nestjs/common';
import { DeferralsRepository } from './deferrals.repository.js';

@Module({ providers: [DeferralsRepository], exports: [DeferralsRepository] })
export class DeferralsModule {}
