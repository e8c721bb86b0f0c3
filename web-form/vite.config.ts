/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Widget build: one self-contained IIFE script (React bundled, CSS injected at run time).
// `npm run dev` serves index.html for working on the form in a browser.
export default defineConfig(({ command }) => ({
  plugins: [react()],
  // The script runs in browsers without `process`: bake in React's production build.
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify('production') } : {},
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2019',
    sourcemap: false,
    lib: {
      entry: 'src/embed.tsx',
      name: 'FteSupportForm',
      formats: ['iife'],
      fileName: () => 'fte-support-form.js',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.{ts,tsx}'],
    setupFiles: ['test/setup.ts'],
  },
}));
