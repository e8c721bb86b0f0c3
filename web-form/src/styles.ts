import css from './styles.css?inline';

/** The form's stylesheet, for hosts that prefer to serve it themselves (see `injectStyles`). */
export const supportFormCss: string = css;

export const STYLE_ELEMENT_ID = 'fte-sf-styles';

/** Adds the stylesheet to the document once. The nonce is for a Content-Security-Policy. */
export function ensureStyles(doc: Document = document, nonce?: string): void {
  if (doc.getElementById(STYLE_ELEMENT_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ELEMENT_ID;
  if (nonce) style.nonce = nonce;
  style.textContent = css;
  (doc.head ?? doc.documentElement).appendChild(style);
}
