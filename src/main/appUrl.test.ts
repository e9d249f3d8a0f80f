import { describe, expect, it } from 'vitest'
import { isAppUrl, isExternalLink } from './appUrl'

describe('isAppUrl', () => {
  const packaged = 'file:///opt/Gantry/resources/app/out/renderer/index.html'

  it('accepts the renderer folder and nothing beside it', () => {
    expect(isAppUrl('file:///opt/Gantry/resources/app/out/renderer/index.html#/runs', packaged)).toBe(true)
    expect(isAppUrl('file:///opt/Gantry/resources/app/out/renderer/assets/x.js', packaged)).toBe(true)
    expect(isAppUrl('file:///opt/Gantry/resources/app/out/renderer-x/index.html', packaged)).toBe(false)
    expect(isAppUrl('file:///opt/Gantry/resources/app/out/renderer', packaged)).toBe(false)
    expect(isAppUrl('file:///opt/Gantry/resources/app/out/renderer/../main/index.js', packaged)).toBe(false)
    expect(isAppUrl('file:///opt/Gantry/resources/app/out/renderer/%2e%2e/main/index.js', packaged)).toBe(false)
    expect(isAppUrl('file://evil.example/opt/Gantry/resources/app/out/renderer/index.html', packaged)).toBe(false)
    expect(isAppUrl('https://evil.example/', packaged)).toBe(false)
    expect(isAppUrl('not a url', packaged)).toBe(false)
  })

  it('handles an install path with spaces', () => {
    const spaced = 'file:///Applications/My Apps/Gantry.app/out/renderer/index.html'
    expect(isAppUrl('file:///Applications/My%20Apps/Gantry.app/out/renderer/index.html', spaced)).toBe(true)
    expect(isAppUrl('file:///Applications/My%20Apps/Gantry.app/out/renderer-x/a.html', spaced)).toBe(false)
  })

  it('compares origins for the dev server', () => {
    const dev = 'http://localhost:5173/'
    expect(isAppUrl('http://localhost:5173/src/main.tsx', dev)).toBe(true)
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false)
    expect(isAppUrl('http://localhost:5173.evil.example/', dev)).toBe(false)
  })
})

describe('isExternalLink', () => {
  it('lets only http(s) links leave for the browser', () => {
    expect(isExternalLink('https://docs.example/x')).toBe(true)
    expect(isExternalLink('http://example.com')).toBe(true)
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'ms-settings:', 'HTTPS', '']) expect(isExternalLink(url), url).toBe(false)
  })
})
