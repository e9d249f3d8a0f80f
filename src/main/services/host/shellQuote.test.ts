/** Round-trips hostile words through a real /bin/sh and bash: each must arrive as one literal argv element. */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { shellJoin, shellQuote, shellQuoteHomePath } from './shellQuote'

const hostile = [
  'a; rm -rf ~',
  '$(id)',
  '`id`',
  "it's",
  '"double" quotes',
  "''",
  '',
  'line1\nline2',
  'tab\there',
  '*',
  '~',
  '-n',
  '$HOME',
  '\\',
  'ünïcödé ✓ 日本語',
  "'; echo pwned; '",
  '!!',
  '&& whoami',
  '| cat /etc/passwd',
  '> /tmp/x',
  '{a,b}',
]

function echoArgs(shell: string, line: string): string[] {
  // printf prints each argument NUL-terminated, so newlines inside arguments survive.
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' })
  return out.split('\0').slice(0, -1)
}

describe('shellQuote', () => {
  for (const shell of ['/bin/sh', '/bin/bash']) {
    it(`keeps each hostile word literal in ${shell}`, () => {
      expect(echoArgs(shell, shellJoin(hostile))).toEqual(hostile)
    })
  }

  it('leaves plain words readable and quotes the rest', () => {
    expect(shellJoin(['python3', '-m', 'gantry_remote', '--root', '/tmp/a-b_c.d'])).toBe('python3 -m gantry_remote --root /tmp/a-b_c.d')
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(shellQuote('')).toBe("''")
  })

  it('refuses NUL and empty argv', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/)
    expect(() => shellJoin([])).toThrow(/empty/)
  })

  it('expands only a leading ~/ in home paths', () => {
    const home = execFileSync('/bin/sh', ['-c', `printf %s ${shellQuoteHomePath('~/x $(id) y')}`], { encoding: 'utf8', env: { ...process.env, HOME: '/h' } })
    expect(home).toBe('/h/x $(id) y')
    expect(execFileSync('/bin/sh', ['-c', `printf %s ${shellQuoteHomePath('/abs/~')}`], { encoding: 'utf8' })).toBe('/abs/~')
  })
})
