/** One line for an instance connection state, as the sidebar and header show it. */
export function connectionText(c: { status: string; retryInS: number | null; message: string | null }): string {
  switch (c.status) {
    case 'connected':
      return 'connected'
    case 'connecting':
      return 'connecting…'
    case 'reconnecting':
      return c.retryInS !== null ? `reconnecting in ${c.retryInS} s` : 'reconnecting…'
    case 'failed':
      return `failed: ${c.message ?? 'unknown reason'}`
    default:
      return 'not connected'
  }
}
