import { describe, expect, it } from 'vitest';
import { docsSite } from './docs.js';
import { edgeRoutes } from './testing/fixture.js';

describe('docsSite', () => {
  it('serves the document at /openapi.json and no page by default', () => {
    const site = docsSite(edgeRoutes);
    expect(site.paths).toEqual(['/openapi.json']);
    const answer = site.answer('/openapi.json')!;
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body as string).info.title).toBe('edge conformance');
    expect(site.answer('/docs')).toBeUndefined();
  });

  it('serves Swagger UI from swagger-ui-dist with its own files and a strict content security policy', () => {
    const site = docsSite(edgeRoutes, { path: '/api.json', docs: '/docs' });
    const page = site.answer('/docs')!;
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="/docs/swagger-ui-bundle.js"></script>');
    expect(page.body).not.toMatch(/<script>|https?:\/\//);
    expect(site.answer('/docs/init.js')!.body).toContain('url: "/api.json"');
    const bundle = site.answer('/docs/swagger-ui-bundle.js')!;
    expect(Buffer.isBuffer(bundle.body) && bundle.body.length).toBeGreaterThan(100_000);
    expect(site.answer('/docs/../package.json')).toBeUndefined();
  });
});
