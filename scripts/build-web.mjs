// Builds the browser client (web/src → web/dist) with esbuild: one small bundle, no CDN.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';

if (existsSync('web/src/main.ts')) {
  mkdirSync('web/dist', { recursive: true });
  await build({
    entryPoints: ['web/src/main.ts'],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    outfile: 'web/dist/app.js',
    logLevel: 'warning',
  });
  cpSync('web/public', 'web/dist', { recursive: true });
}
