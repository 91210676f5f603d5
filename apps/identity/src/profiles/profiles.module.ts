import { type DynamicModule, Module } from '@nestjs/common';
import { ADMIN_TOKEN, AdminTokenGuard } from './admin-token.guard.js';
import { ProfilesController } from './profiles.controller.js';

@Module({})
export class ProfilesModule {
  static forRoot(adminToken: string): DynamicModule {
    return {
      module: ProfilesModule,
      controllers: [ProfilesController],
      providers: [AdminTokenGuard, { provide: ADMIN_TOKEN, useValue: adminToken }],
    };
  }
}
