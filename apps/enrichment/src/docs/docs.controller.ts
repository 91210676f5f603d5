import { Controller, Get } from '@nestjs/common';
import { OPENAPI } from './openapi.js';

/** The admin API's OpenAPI document (public: it describes, it does not expose data). */
@Controller('api/docs')
export class DocsController {
  @Get('openapi.json')
  openapi(): typeof OPENAPI {
    return OPENAPI;
  }
}
