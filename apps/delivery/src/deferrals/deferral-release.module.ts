import { Module } from '@nestjs/common';
import { SendingModule } from '../sending/sending.module.js';
import { DeferralsModule } from './deferrals.module.js';
import { ReleaseDeferredService } from './release-deferred.service.js';

@Module({ imports: [SendingModule, DeferralsModule], providers: [ReleaseDeferredService] })
export class DeferralReleaseModule {}
