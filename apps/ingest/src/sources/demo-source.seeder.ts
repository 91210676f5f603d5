import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { IngestEnv } from '../config.js';
import { SourcesRepository } from './sources.repository.js';

export const DEMO_SOURCE_ID = 'demo';

/** Makes the demo source exist with MESH_DEMO_WRITE_KEY, when that is set. */
@Injectable()
export class DemoSourceSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoSourceSeeder.name);

  constructor(
    private readonly sources: SourcesRepository,
    @Inject(IngestEnv) private readonly env: IngestEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.MESH_DEMO_WRITE_KEY) return;
    await this.sources.upsert(
      { id: DEMO_SOURCE_ID, name: 'Demo source', enabled: true },
      this.env.MESH_DEMO_WRITE_KEY,
    );
    this.logger.log(`demo source "${DEMO_SOURCE_ID}" is ready`);
  }
}
