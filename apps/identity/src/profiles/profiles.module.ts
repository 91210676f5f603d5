import { type DynamicModule, Module } from '@nestjs/common';
import { ProfilesController } from './profiles.controller.js';

@Module({})
export class ProfilesModule {
  static forRoot(): DynamicModule {
    return {
      module: ProfilesModule,
      controllers: [ProfilesController],
    };
  }
}
