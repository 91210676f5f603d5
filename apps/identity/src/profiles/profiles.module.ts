import { type DynamicModule, Module } from '@nestjs/common';
import { IdentityGraphRepository } from '../resolution/identity-graph.repository.js';
import { ProfilesController } from './profiles.controller.js';

@Module({})
export class ProfilesModule {
  static forRoot(): DynamicModule {
    return {
      module: ProfilesModule,
      controllers: [ProfilesController],
      providers: [IdentityGraphRepository],
    };
  }
}
