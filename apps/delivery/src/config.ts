import { IsMongoUrl, ServiceEnv } from '@mesh/config';
import { IsString, Matches, MinLength } from 'class-validator';

export class DeliveryEnv extends ServiceEnv {
  override PORT: number = 3006;

  @IsMongoUrl() MONGO_URL: string = 'mongodb://127.0.0.1:27017/delivery';

  /** Where mail goes: the ESP's or MTA's SMTP endpoint (smtps:// for implicit TLS). */
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL: string = 'smtp://127.0.0.1:2525';

  @IsString() @MinLength(3) MAIL_FROM: string = 'Personalization Mesh <mesh@localhost>';
}
