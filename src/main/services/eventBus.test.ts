import { describe, expect, it } from 'vitest'
import type { EventEnvelope } from '../../shared/rpc'
import { createEventBus } from './eventBus'

const note = { level: 'info' as const, title: 't', body: 'b' }

describe('event bus', () => {
  it('delivers only to connections subscribed to the topic', () => {
    const bus = createEventBus()
    const a: EventEnvelope[] = []
    const b: EventEnvelope[] = []
    bus.connect('a', (e) => a.push(e)).subscribe('app.notification')
    bus.connect('b', (e) => b.push(e))
    bus.emit('app.notification', note)
    expect(a).toHaveLength(1)
    expect(a[0]).toEqual({ kind: 'evt', topic: 'app.notification', payload: note })
    expect(b).toHaveLength(0)
  })

  it('narrows by key when a connection subscribes to one key', () => {
    const bus = createEventBus()
    const got: EventEnvelope[] = []
    bus.connect('a', (e) => got.push(e)).subscribe('app.notification', 'run-1')
    bus.emit('app.notification', note, 'run-2')
    bus.emit('app.notification', note, 'run-1')
    bus.emit('app.notification', note)
    expect(got.map((e) => e.key)).toEqual(['run-1'])
  })

  it('stops delivering after unsubscribe and after close, and reports the disconnect', () => {
    const bus = createEventBus()
    const got: EventEnvelope[] = []
    const closed: string[] = []
    bus.onDisconnect((id) => closed.push(id))
    const conn = bus.connect('a', (e) => got.push(e))
    conn.subscribe('app.notification')
    conn.unsubscribe('app.notification')
    bus.emit('app.notification', note)
    conn.subscribe('app.notification')
    conn.close()
    conn.close()
    bus.emit('app.notification', note)
    expect(got).toHaveLength(0)
    expect(closed).toEqual(['a'])
  })

  it('calls in-process listeners of a topic with payload and key until they unsubscribe', () => {
    const bus = createEventBus()
    const got: Array<[string, string | undefined]> = []
    const stop = bus.listen('app.notification', (p, key) => got.push([p.title, key]))
    bus.listen('app.notification', () => {
      throw new Error('a broken listener')
    })
    const delivered: EventEnvelope[] = []
    bus.connect('a', (e) => delivered.push(e)).subscribe('app.notification')
    bus.emit('app.notification', note, 'k1')
    stop()
    bus.emit('app.notification', note)
    expect(got).toEqual([['t', 'k1']])
    expect(delivered).toHaveLength(2)
  })
})
