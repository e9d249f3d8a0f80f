/**
 * React.lazy for a named export: the feature's code (and its heavy libraries: recharts, xterm)
 * becomes its own chunk, loaded when first rendered, so first paint does not wait for it.
 */
import { lazy, type ComponentType } from 'react'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the props type comes from the export itself
export function lazyNamed<M extends Record<K, ComponentType<any>>, K extends keyof M>(load: () => Promise<M>, name: K) {
  return lazy(async () => ({ default: (await load())[name] }))
}
