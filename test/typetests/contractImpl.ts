/**
 * Compile-time proof that the contract types bite: each @ts-expect-error below must be an error,
 * so `npm run typecheck` fails if a missing or mistyped method ever compiles.
 */
import type { ApiImpl, ApiClient } from '../../src/shared/contract'

declare const impl: ApiImpl

// A complete, correct implementation type-checks.
export const good: ApiImpl = { ...impl }

// @ts-expect-error — a missing method is a compile error.
export const missing: ApiImpl = { 'app.info': impl['app.info'] }

export const wrongOutput: ApiImpl = {
  ...impl,
  // @ts-expect-error — returning the wrong shape is a compile error.
  'instances.list': async () => [{ id: 'x' }],
}

declare const client: ApiClient
// @ts-expect-error — calling with the wrong input is a compile error.
void client['app.info']({ unexpected: 1 })
