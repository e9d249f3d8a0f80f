/**
 * Which URLs belong to the app (navigation stays inside them) and which links may leave for the
 * user's browser. Pure, so it is tested without Electron.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** True only for the renderer's own files (file:// inside its folder) or the dev server's origin. */
export function isAppUrl(url: string, rendererUrl: string): boolean {
  try {
    const target = new URL(url)
    const base = new URL(rendererUrl)
    if (base.protocol !== 'file:') return target.origin === base.origin
    if (target.protocol !== 'file:' || target.host !== '') return false
    // The folder with a trailing separator, so a sibling such as ".../renderer-x/" is not inside it.
    const root = path.dirname(fileURLToPath(base)) + path.sep
    return path.resolve(fileURLToPath(target)).startsWith(root)
  } catch {
    return false
  }
}

/** Links in logs and docs open in the user's browser, and only http(s). */
export function isExternalLink(url: string): boolean {
  try {
    const { protocol } = new URL(url)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}
