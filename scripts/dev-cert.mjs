// `npm run dev-cert [DIR]`: a self-signed certificate for localhost / 127.0.0.1 / ::1, for
// trying the TLS listeners locally (data/tls/cert.pem and key.pem by default).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'data/tls';
mkdirSync(dir, { recursive: true });
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '365',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
console.log(
  `Wrote ${cert} and ${key}. Start with:\n  npm start -- --tls-cert ${cert} --tls-key ${key}`,
);
