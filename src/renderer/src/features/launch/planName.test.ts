import { describe, expect, it } from 'vitest'
import { nameForGameCount } from './planName'

describe('a trimmed plan keeps a true title', () => {
  it('rewrites the game count in the name', () => {
    expect(nameForGameCount('Quick demo: 5 built-in games', 1)).toBe('Quick demo: 1 built-in game')
    expect(nameForGameCount('Seed: 10 Atari games (EnvPool)', 3)).toBe('Seed: 3 Atari games (EnvPool)')
    expect(nameForGameCount('My plan', 2)).toBe('My plan')
  })
})
