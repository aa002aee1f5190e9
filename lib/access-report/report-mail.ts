/**
 * The report model → the daily e-mail, in the shape `aws sesv2 send-email --content`
 * takes (EmailContent.Simple): a subject with the day's totals, the HTML page as the HTML
 * part and the text summary as the plain-text part. Both parts are the renderers' own
 * output, so what they escape and redact (hostile field values, token-like strings) is
 * escaped and redacted here too.
 */
import type { AccessReport } from './access-report';
import { renderHtml } from './render-html';
import { renderText } from './render-text';

/**
 * Above this the HTML part is replaced by a pointer to the page in the bucket: SES
 * refuses messages over 40 MB (SESv2) and many mailboxes far less.
 */
export const MAX_MAIL_HTML_BYTES = 5 * 1024 * 1024;

export interface MailContext {
  /** The provider's domain (the subject names it). */
  readonly domain: string;
  /** The day reported, YYYY-MM-DD (UTC). */
  readonly day: string;
  /** Where the full page is kept (s3://bucket/key), named when the HTML part is left out. */
  readonly pageLocation: string;
}

interface Part {
  readonly Data: string;
  readonly Charset: 'UTF-8';
}

/** SESv2 EmailContent with a Simple message. */
export interface SesSimpleContent {
  readonly Simple: {
    readonly Subject: Part;
    readonly Body: { readonly Html: Part; readonly Text: Part };
  };
}

const count = (value: number, one: string, many: string) => `${value.toLocaleString('en-GB')} ${value === 1 ? one : many}`;

export function reportSubject(report: AccessReport, context: Pick<MailContext, 'domain' | 'day'>): string {
  const t = report.totals;
  return `Access report ${context.domain} ${context.day}: ${count(t.requests, 'request', 'requests')}, ${count(t.consumers, 'consumer', 'consumers')}, ${t.refusals.toLocaleString('en-GB')} refused`;
}

export function reportMailContent(report: AccessReport, context: MailContext): SesSimpleContent {
  let html = renderHtml(report);
  if (Buffer.byteLength(html, 'utf8') > MAX_MAIL_HTML_BYTES) {
    // Only validated values reach this page: the domain, the day and the bucket key.
    html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Provider access report</title></head><body><p>The access report of ${context.day} is too large for an e-mail; it is kept at ${context.pageLocation}.</p></body></html>`;
  }
  const text = `${renderText(report)}\nThe page (with the chart and every row): ${context.pageLocation}\n`;
  return {
    Simple: {
      Subject: { Data: reportSubject(report, context), Charset: 'UTF-8' },
      Body: { Html: { Data: html, Charset: 'UTF-8' }, Text: { Data: text, Charset: 'UTF-8' } },
    },
  };
}
