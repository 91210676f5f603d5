import { Controller, Get, HttpCode, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { LinkTokens } from './link-tokens.js';
import { RecordEngagementUseCase } from './record-engagement.usecase.js';

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const unknownLink = () => new NotFoundException({ error: 'unknown_link', message: 'this link is not valid' });

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">${body}</body></html>`;

/** The links inside emails: tracked clicks, the open pixel and unsubscribe (page and RFC 8058 one-click). */
@Controller()
export class TrackingController {
  constructor(
    private readonly tokens: LinkTokens,
    private readonly engagement: RecordEngagementUseCase,
  ) {}

  /** A tampered or foreign token never redirects anywhere: only URLs we signed are followed. */
  @Get('t/c/*')
  async click(@Param('*') token: string, @Res() reply: FastifyReply): Promise<void> {
    const link = this.tokens.verify(token, 'click');
    if (!link) throw unknownLink();
    await this.engagement.clicked(link.sendId, link.url);
    await reply.header('cache-control', 'no-store').redirect(link.url, 302);
  }

  /** Always the pixel (a broken image helps nobody); an event only for a valid token. */
  @Get('t/o/*')
  async open(@Param('*') file: string, @Res() reply: FastifyReply): Promise<void> {
    const open = file.endsWith('.gif')
      ? this.tokens.verify(file.slice(0, -'.gif'.length), 'open')
      : undefined;
    if (open) await this.engagement.opened(open.sendId);
    await reply
      .header('content-type', 'image/gif')
      .header('cache-control', 'no-store, no-cache, must-revalidate, private')
      .send(PIXEL);
  }

  /** The link people click: a confirmation page (link scanners that follow GETs unsubscribe nobody). */
  @Get('u/*')
  async unsubscribePage(@Param('*') token: string, @Res() reply: FastifyReply): Promise<void> {
    if (!this.tokens.verify(token, 'unsubscribe')) throw unknownLink();
    await reply
      .header('content-type', 'text/html; charset=utf-8')
      .send(
        page(
          'Unsubscribe',
          `<h1>Unsubscribe</h1><p>Stop receiving these emails?</p><form method="post"><button type="submit">Unsubscribe</button></form>`,
        ),
      );
  }

  /** RFC 8058 one-click (the mailbox provider posts `List-Unsubscribe=One-Click`) and the page's button. */
  @Post('u/*')
  @HttpCode(200)
  async unsubscribe(@Param('*') token: string, @Res() reply: FastifyReply): Promise<void> {
    const link = this.tokens.verify(token, 'unsubscribe');
    if (!link || !(await this.engagement.unsubscribed(link.sendId, 'one-click'))) throw unknownLink();
    await reply
      .header('content-type', 'text/html; charset=utf-8')
      .send(
        page(
          'Unsubscribed',
          '<h1>You are unsubscribed</h1><p>You will not receive these emails any more.</p>',
        ),
      );
  }
}
