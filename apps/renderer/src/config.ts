import { BooleanFromEnv, IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsBoolean, IsIn, IsInt, Max, Min } from 'class-validator';

export class RendererEnv extends ServiceEnv {
  override PORT: number = 3005;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/renderer';

  /** Seeds the demo template (local runtime and demos). */
  @BooleanFromEnv() @IsBoolean() MESH_DEMO: boolean = false;
  /** Worker threads that render templates. */
  @IsInt() @Min(1) @Max(64) RENDER_WORKERS: number = 2;
  /**
   * Time limit of one render, from the moment a thread starts it (a batch of renders gets one limit;
   * past it, each render is tried again alone); a template running longer fails as TIMEOUT.
   */
  @IsInt() @Min(10) @Max(60_000) RENDER_TIMEOUT_MS: number = 2_000;
  /**
   * How long which version of a template is the latest published is kept in memory (sends that
   * name no version): a publish through another replica is used by this one within that time; 0
   * asks MongoDB on every such send. Published versions themselves never change and are kept.
   */
  @IsInt() @Min(0) @Max(600_000) RENDER_TEMPLATE_CACHE_MS: number = 5_000;
  /** Gmail clips an html part over 102 KB, hiding the end (often the unsubscribe link). */
  @IsInt() @Min(1024) RENDER_HTML_CLIP_BYTES: number = 102 * 1024;
  /** What a larger html does: `warn` logs and sends it; `fail` reports HTML_TOO_LARGE instead. */
  @IsIn(['warn', 'fail']) RENDER_OVERSIZE_HTML: 'warn' | 'fail' = 'warn';
}
