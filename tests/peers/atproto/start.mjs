// Start the reference atproto stack on 127.0.0.1 for Hirondelle's tests.
//
//   node start.mjs [--no-appview] [--rate-limits]
//
// Needs Node >= 22. With the AppView (default) it also needs PostgreSQL and
// Redis: DB_POSTGRES_URL, DB_POSTGRES_SCHEMA (letters and underscores) and
// REDIS_HOST (host:port) in the environment.
//
// Talks JSON lines. Every line it writes for its caller starts with "@@ ",
// so stray log lines cannot be mistaken for answers:
//   @@ {"ready": true, "pds": "http://127.0.0.1:…", "appview": …, "plc": …}
// then answers each request read from stdin, one JSON object a line:
//   {"id": 1, "op": "account", "handle": "alice.test"}  -> did, handle, password, app_password
//   {"id": 2, "op": "sync"}  -> the AppView has indexed every write so far
// It stops the stack and exits when stdin closes.
import './bind-loopback.mjs'

import readline from 'node:readline'
import { TestNetwork, TestNetworkNoAppView } from '@atproto/dev-env'

const args = new Set(process.argv.slice(2))
const withAppView = !args.has('--no-appview')
const rateLimits = args.has('--rate-limits')

const say = (obj) => process.stdout.write(`@@ ${JSON.stringify(obj)}\n`)
const loopback = (url) => url && url.replace('//localhost:', '//127.0.0.1:')

const fail = (stage, err) => {
  say({ ready: false, stage, error: String(err?.stack ?? err) })
  process.exit(1)
}

let network
try {
  // HIRONDELLE_PDS_CONFIG (JSON) is spread over the PDS's settings: an
  // institution's PDS (its handle domain, invites, SMTP, bypass key).
  const extra = process.env.HIRONDELLE_PDS_CONFIG
    ? JSON.parse(process.env.HIRONDELLE_PDS_CONFIG)
    : {}
  const pds = { rateLimitsEnabled: rateLimits, ...extra }
  if (withAppView) {
    for (const name of ['DB_POSTGRES_URL', 'DB_POSTGRES_SCHEMA', 'REDIS_HOST']) {
      if (!process.env[name]) throw new Error(`${name} is not set`)
    }
    if (!/^[A-Za-z_]+$/.test(process.env.DB_POSTGRES_SCHEMA)) {
      throw new Error('DB_POSTGRES_SCHEMA must be made of letters and underscores only')
    }
    network = await TestNetwork.create({ pds })
  } else {
    network = await TestNetworkNoAppView.create({ pds })
  }
} catch (err) {
  fail('start', err)
}

say({
  ready: true,
  mode: withAppView ? 'appview' : 'no-appview',
  rate_limits: rateLimits,
  pds: loopback(network.pds.url),
  plc: loopback(network.plc.url),
  appview: withAppView ? loopback(network.bsky.url) : null,
  appview_did: withAppView ? network.bsky.ctx.cfg.serverDid : null,
  pds_did: network.pds.ctx.cfg.service.did,
  admin_password: 'admin-pass',
})

let counter = 0
const ops = {
  async account({ handle, password }) {
    counter += 1
    password = password || `pw-${process.pid}-${counter}-${Date.now()}`
    const agent = network.pds.getAgent()
    const made = await agent.createAccount({
      handle,
      password,
      email: `${handle.replace(/[^a-z0-9]/gi, '-')}@hirondelle.test`,
    })
    const app = await agent.com.atproto.server.createAppPassword({ name: 'hirondelle-tests' })
    if (withAppView) await network.processAll()
    return {
      did: made.data.did,
      handle: made.data.handle,
      password,
      app_password: app.data.password,
    }
  },
  async sync() {
    await network.processAll()
    return {}
  },
}

let stopping = false
const stop = async (code = 0) => {
  if (stopping) return
  stopping = true
  try {
    await network.close()
  } catch (err) {
    process.stderr.write(`atproto peer: error while stopping: ${err?.stack ?? err}\n`)
  }
  process.exit(code)
}

// One request at a time, in order: tests wait for each answer anyway.
let queue = Promise.resolve()
const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  if (!line.trim()) return
  queue = queue.then(async () => {
    let req
    try {
      req = JSON.parse(line)
      const op = ops[req.op]
      if (!op) throw new Error(`unknown op ${JSON.stringify(req.op)}`)
      say({ id: req.id, ok: true, ...(await op(req)) })
    } catch (err) {
      say({ id: req?.id ?? null, ok: false, error: String(err?.message ?? err) })
    }
  })
})
rl.on('close', () => queue.then(() => stop(0)))
process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
