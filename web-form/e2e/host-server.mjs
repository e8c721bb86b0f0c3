// A page of "another site" that embeds the support form from the gateway, for the
// cross-origin test: GET /help.html answers a host page whose script tag loads
// `${gateway}/widget/fte-support-form.js` with data-api-base pointing at the gateway.
// Reached as http://localhost:<port>, http://allowed.test:<port> or http://refused.test:<port>
// (Chromium maps *.test to 127.0.0.1), each a different origin.

import { createServer } from 'node:http';

function hostPage(gateway, theme) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Partner help page</title>
<link rel="icon" href="data:,">
<style>body { font-family: Georgia, serif; margin: 0; background: #fafafa; } main { padding: 1rem; }</style>
</head>
<body>
<main>
  <h1>Help</h1>
  <div id="fte-support-form"></div>
</main>
<script src="${gateway}/widget/fte-support-form.js" data-api-base="${gateway}" data-theme="${theme}"></script>
</body>
</html>
`;
}

/** Starts the host server on `port` (0: any). Resolves to { port, close() }. */
export async function startHostServer(gateway, { port = 0 } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    if (url.pathname === '/help.html') {
      const theme = url.searchParams.get('theme') ?? 'auto';
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      return res.end(hostPage(gateway, theme));
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    return res.end('not found');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
