import { useEffect, useState } from 'react';
import type { Messages } from './i18n';

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection-based copy below.
  }
  try {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.left = '-10000px';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  } catch {
    return false;
  }
}

/** "Copy" with a status message that the screen reader announces. */
export function CopyButton({ text, messages: t }: { text: string; messages: Messages }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 4000);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <>
      <button
        type="button"
        className="fte-sf-button fte-sf-button--small"
        onClick={async () => setState((await copyText(text)) ? 'copied' : 'failed')}
        aria-label={t.status.copyTicketId}
      >
        {t.status.copy}
      </button>
      <span className="fte-sf-copy-status" role="status">
        {state === 'copied' ? t.status.copied : state === 'failed' ? t.status.copyFailed : ''}
      </span>
    </>
  );
}
