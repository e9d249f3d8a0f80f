/** A built-in plan's name counts its games ("Quick demo: 5 built-in games"): keep the count true when games are removed. */
export function nameForGameCount(name: string, count: number): string {
  return name.replace(/\b\d+(\s+(?:[\w-]+\s+)?)games?\b/, (_match, middle: string) => `${count}${middle}${count === 1 ? 'game' : 'games'}`)
}
