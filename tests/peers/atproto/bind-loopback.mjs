// Imported before anything else by start.mjs: every server the atproto stack
// starts listens on 127.0.0.1 only (the stack binds all interfaces by
// default), and "localhost" resolves to IPv4 first to match.
import dns from 'node:dns'
import net from 'node:net'

dns.setDefaultResultOrder('ipv4first')

const LOOPBACK = '127.0.0.1'
const listen = net.Server.prototype.listen

net.Server.prototype.listen = function (...args) {
  const [first, second] = args
  if (args.length === 0 || typeof first === 'function') {
    return listen.call(this, 0, LOOPBACK, ...args)
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (second === undefined || typeof second === 'function' || typeof second === 'number') {
      // listen(port), listen(port, cb), listen(port, backlog, cb)
      return listen.call(this, first, LOOPBACK, ...args.slice(1))
    }
    return listen.apply(this, args)
  }
  if (first && typeof first === 'object' && !('path' in first) && !first.host) {
    return listen.call(this, { ...first, host: LOOPBACK }, ...args.slice(1))
  }
  return listen.apply(this, args)
}
