import juice from 'juice';

/**
 * CSS inlined into style attributes, once per version at publish; Eta's `<% %>` tags are kept as they
 * are. Apart from email-output.ts so render workers never load juice.
 */
export function inlineCss(html: string): string {
  return juice(html, { preserveMediaQueries: true, preserveFontFaces: true, removeStyleTags: true });
}
