/** The HTTP listener's two guards: static paths stay inside the root, Origins are checked. */
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { originAllowed } from '../../src/transports/origin.js';
import { resolveStatic } from '../../src/transports/static-files.js';

describe('resolveStatic', () => {
  const root = resolve('/srv/web');
  test('maps paths inside the root, index.html for directories', () => {
    expect(resolveStatic(root, '/')).toBe(join(root, 'index.html'));
    expect(resolveStatic(root, '/app.js')).toBe(join(root, 'app.js'));
    expect(resolveStatic(root, '/a/./b/../c.css')).toBe(join(root, 'a/c.css'));
  });
  test('refuses everything that leaves it', () => {
    for (const p of [
      '/../etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/%2e%2e/secret',
      '/a/../../secret',
      '/..\\secret',
      '/app.js%00.html',
      '/%E0%A4%A',
      '/..',
    ]) {
      expect(resolveStatic(root, p), p).toBeNull();
    }
  });
});

describe('originAllowed', () => {
  test('without an allow-list the page must come from the same host and port', () => {
    expect(originAllowed(undefined, '127.0.0.1:8080', [])).toBe(true); // not a browser
    expect(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', [])).toBe(true);
    const known = ['chat.example.org'];
    expect(originAllowed('http://chat.example.org', 'chat.example.org', [], known)).toBe(true);
    expect(originAllowed('https://Chat.Example.org', 'chat.example.org', [], known)).toBe(true);
    expect(originAllowed('http://localhost:8080', 'localhost:8080', [])).toBe(true);
    expect(originAllowed('http://[::1]:8080', '[::1]:8080', [])).toBe(true);
    expect(originAllowed('http://127.0.0.1:9999', '127.0.0.1:8080', [])).toBe(false);
    expect(originAllowed('https://evil.example', '127.0.0.1:8080', [])).toBe(false);
    expect(originAllowed('null', '127.0.0.1:8080', [])).toBe(false);
    expect(originAllowed('file://', '127.0.0.1:8080', [])).toBe(false);
  });
  test('with an allow-list, only listed origins (scheme, host and port) pass', () => {
    const list = ['https://chat.example.org', 'http://localhost:3000'];
    expect(originAllowed('https://chat.example.org', 'x', list)).toBe(true);
    expect(originAllowed('https://chat.example.org:443', 'x', list)).toBe(true);
    expect(originAllowed('http://chat.example.org', 'chat.example.org', list)).toBe(false);
    expect(originAllowed('http://localhost:3000', 'x', list)).toBe(true);
    expect(originAllowed('http://localhost:3001', 'x', list)).toBe(false);
    expect(originAllowed('https://anything.test', 'x', ['*'])).toBe(true);
  });
});
