import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Library build: ES modules for React applications; react and react-dom stay external.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    target: 'es2019',
    minify: false,
    lib: {
      entry: {
        index: 'src/index.ts',
        validation: 'src/validation.ts',
      },
      formats: ['es'],
    },
    rolldownOptions: {
      external: [/^react($|\/)/, /^react-dom($|\/)/],
    },
  },
});
