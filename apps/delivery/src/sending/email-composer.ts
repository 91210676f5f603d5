import { Inject, Injectable } from '@nestjs/common';
import { type Envelope, type RenderedEmailPayload } from '@mesh/contracts';
import { DeliveryEnv } from '../config.js';
import { isWebUrl, LinkTokens } from '../tracking/link-tokens.js';
import { appendPixel, rewriteHtmlLinks, rewriteTextLinks } from '../tracking/rewrite-links.js';
import { type OutgoingEmail } from './mailer.js';

/** The domain of an address like `Shop <news@shop.example>`. */
function domainOf(address: string): string | undefined {
  return /@([^\s>]+)>?\s*$/.exec(address)?.[1];
}

/**
 * Turns a rendered email into the message sent: links rewritten to signed click links, an open
 * pixel, the campaign's sender, and for marketing email the RFC 8058 one-click unsubscribe headers.
 */
@Injectable()
export class EmailComposer {
  private readonly base: string;

  constructor(
    private readonly tokens: LinkTokens,
    @Inject(DeliveryEnv) private readonly env: DeliveryEnv,
  ) {
    this.base = env.MESH_PUBLIC_URL.replace(/\/+$/, '');
  }

  compose(envelope: Envelope<RenderedEmailPayload>, sendId: string, messageId: string): OutgoingEmail {
    const email = envelope.data;
    // One signed link per distinct target (emails repeat links: logo, product image and title…).
    const signed = new Map<string, string | undefined>();
    const track = (url: string) => {
      if (!signed.has(url))
        signed.set(
          url,
          isWebUrl(url) && !url.startsWith(this.base)
            ? `${this.base}/t/c/${this.tokens.sign({ kind: 'click', sendId, url })}`
            : undefined,
        );
      return signed.get(url);
    };
    const pixel = `${this.base}/t/o/${this.tokens.sign({ kind: 'open', sendId })}.gif`;
    const from = email.campaign.from ?? this.env.MAIL_FROM;
    return {
      from,
      ...(email.campaign.replyTo ? { replyTo: email.campaign.replyTo } : {}),
      to: email.to,
      subject: email.subject,
      html: appendPixel(rewriteHtmlLinks(email.html, track), pixel),
      text: rewriteTextLinks(email.text, track),
      messageId,
      ...(email.campaign.sendPolicy.transactional ? {} : { headers: this.unsubscribeHeaders(sendId, from) }),
    };
  }

  private unsubscribeHeaders(sendId: string, from: string): Record<string, string> {
    const https = `${this.base}/u/${this.tokens.sign({ kind: 'unsubscribe', sendId })}`;
    const mailbox = this.env.DELIVERY_UNSUBSCRIBE_MAILTO ?? `unsubscribe@${domainOf(from) ?? 'localhost'}`;
    const mailto = `mailto:${mailbox}?subject=${encodeURIComponent(`unsubscribe ${sendId}`)}`;
    return {
      'List-Unsubscribe': `<${https}>, <${mailto}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
  }
}
