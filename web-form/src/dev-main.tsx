import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { SupportForm } from './SupportForm';

// Development page only (index.html); not part of either build.
const apiBase = new URLSearchParams(window.location.search).get('api') ?? 'http://127.0.0.1:8787';
const element = document.getElementById('fte-support-form');
if (element) {
  createRoot(element).render(
    <StrictMode>
      <SupportForm apiBase={apiBase} />
    </StrictMode>,
  );
}
