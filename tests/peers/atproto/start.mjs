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
//   {"id": 3, "op": "profile", "handle": …, "password": …, "displayName": …,
//    "description": …, "createdAt": …, "avatar": base64, "avatarMime": …}
//    -> writes the account's profile record (with an avatar blob when given)
//   {"id": 4, "op": "posts", "handle": …, "password": …, "count": 3}  -> that many posts
//   {"id": 5, "op": "search_mode", "mode": "words" | "handles"}  -> see below
//   {"id": 6, "op": "trust_verifier", "did": …}  -> the AppView trusts this account's
//    app.bsky.graph.verification records (Bluesky keeps this in a database column,
//    actor.trustedVerifier, with no API; dev-env's own mock sets it the same way)
//   {"id": 7, "op": "handle_host", "suffix": ".deputes.example.fr", "url": "http://127.0.0.1:…"}
//    -> see HANDLES ON AN INSTITUTION'S OWN DOMAIN below
//
// HANDLES ON AN INSTITUTION'S OWN DOMAIN. In production a handle outside the
// PDS's service domains resolves by DNS TXT or by https://<handle>/.well-known/atproto-did
// (DNS gives the host's address). Here no DNS query leaves the machine: the
// PDS's and the AppView's resolvers fetch /.well-known/atproto-did for handles
// under a suffix registered with "handle_host" from that local URL, with the
// handle as Host header (the request the web server would get); any other
// handle outside the service domains does not resolve. Service-domain handles
// resolve against the PDS, as dev-env already does.
//
// A STAND-IN SEARCH SERVICE. The reference AppView has no search service:
// alone, its searchActors matches handle substrings only (case-sensitive).
// Production Bluesky sends searches to a search service (the AppView's
// `searchUrl`) that matches the words of handle, display name and bio. So
// the AppView here is always given `searchUrl` pointing at a small stand-in
// in this process (app.bsky.unspecced.searchActorsSkeleton). In mode
// "handles" (the default) the stand-in answers exactly as the AppView does
// without one (the data plane's own handle search); in mode "words" it reads
// the AppView's own tables and matches words of handle, display name and bio,
// like production. It is a stand-in, not Bluesky's search.
// It stops the stack and exits when stdin closes.
import './bind-loopback.mjs'

import http from 'node:http'
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
let searchMode = 'handles'
const words = (text) =>
  String(text ?? '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)

// Production-like search: every word of the query starts a word of the
// handle, display name or bio; handle and name matches rank first.
const searchWords = async (q, limit) => {
  const terms = words(q)
  if (!terms.length) return []
  const rows = await network.bsky.db.db
    .selectFrom('actor')
    .leftJoin('profile', 'profile.creator', 'actor.did')
    .select(['actor.did as did', 'actor.handle as handle', 'profile.displayName as displayName',
      'profile.description as description', 'actor.indexedAt as indexedAt'])
    .where('actor.handle', 'is not', null)
    .execute()
  const hits = []
  for (const row of rows) {
    const name = [...words(row.handle), ...words(row.displayName)]
    const all = [...name, ...words(row.description)]
    const found = (pool) => terms.every((t) => pool.some((w) => w.startsWith(t)))
    if (!found(all)) continue
    hits.push({ did: row.did, rank: found(name) ? 0 : 1, at: row.indexedAt })
  }
  hits.sort((a, b) => a.rank - b.rank || (a.at < b.at ? 1 : -1))
  return hits.slice(0, limit).map(({ did }) => ({ did }))
}

const searchService = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1')
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  if (url.pathname !== '/xrpc/app.bsky.unspecced.searchActorsSkeleton') {
    return send(404, { error: 'MethodNotImplemented', message: url.pathname })
  }
  try {
    const q = url.searchParams.get('q') ?? ''
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 25) || 25)
    const cursor = url.searchParams.get('cursor') || undefined
    if (searchMode === 'words') {
      return send(200, { actors: await searchWords(q, limit) })
    }
    const res2 = await network.bsky.ctx.dataplane.searchActors({ term: q, limit, cursor })
    send(200, { actors: res2.dids.map((did) => ({ did })), cursor: res2.cursor || undefined })
  } catch (err) {
    send(500, { error: 'InternalServerError', message: String(err?.message ?? err) })
  }
})
await new Promise((resolve) => searchService.listen(0, '127.0.0.1', resolve))
const searchUrl = `http://127.0.0.1:${searchService.address().port}`

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = http.createServer()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })

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
    // Avatar URLs point at the AppView's own image server (/img/…), on
    // 127.0.0.1, instead of dev-env's unreachable https://bsky.public.url.
    const bskyPort = await freePort()
    network = await TestNetwork.create({
      pds,
      bsky: { searchUrl, port: bskyPort, publicUrl: `http://127.0.0.1:${bskyPort}` },
    })
  } else {
    network = await TestNetworkNoAppView.create({ pds })
  }
} catch (err) {
  fail('start', err)
}

const handleHosts = new Map()
const wellKnown = (base, handle) =>
  new Promise((resolve) => {
    const url = new URL('/.well-known/atproto-did', base)
    const req = http.get(url, { headers: { host: handle }, timeout: 10000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        body += chunk
        if (body.length > 2048) req.destroy()
      })
      res.on('end', () => {
        const did = body.trim()
        resolve(res.statusCode === 200 && did.startsWith('did:') ? did : undefined)
      })
    })
    req.on('error', () => resolve(undefined))
    req.on('timeout', () => req.destroy())
  })
const serviceDomains = network.pds.ctx.cfg.identity.serviceHandleDomains
for (const idResolver of [
  network.pds.ctx.idResolver,
  network.bsky?.ctx.idResolver,
  network.bsky?.dataplane.idResolver,
]) {
  if (!idResolver) continue
  const devEnv = idResolver.handle.resolve // dev-env's: service domains against the PDS
  idResolver.handle.resolve = async (handle) => {
    for (const [suffix, base] of handleHosts) {
      if (handle.endsWith(suffix)) return wellKnown(base, handle)
    }
    if (serviceDomains.some((domain) => handle.endsWith(domain))) return devEnv(handle)
    return undefined
  }
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
  async profile({ handle, password, displayName, description, createdAt, avatar, avatarMime }) {
    const agent = network.pds.getAgent()
    await agent.login({ identifier: handle, password })
    const record = { $type: 'app.bsky.actor.profile', createdAt: createdAt ?? new Date().toISOString() }
    if (displayName) record.displayName = displayName
    if (description) record.description = description
    if (avatar) {
      // base64 bytes: uploaded as a blob, then named by the profile record
      const blob = await agent.com.atproto.repo.uploadBlob(Buffer.from(avatar, 'base64'), {
        encoding: avatarMime || 'image/png',
      })
      record.avatar = blob.data.blob
    }
    await agent.com.atproto.repo.putRecord({
      repo: agent.session.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record,
    })
    return {}
  },
  async posts({ handle, password, count }) {
    const agent = network.pds.getAgent()
    await agent.login({ identifier: handle, password })
    for (let i = 0; i < (count ?? 1); i++) {
      await agent.com.atproto.repo.createRecord({
        repo: agent.session.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: `post ${i + 1}`, createdAt: new Date().toISOString() },
      })
    }
    return {}
  },
  async search_mode({ mode }) {
    if (mode !== 'words' && mode !== 'handles') throw new Error(`unknown search mode ${mode}`)
    searchMode = mode
    return { mode }
  },
  async trust_verifier({ did }) {
    if (!withAppView) throw new Error('trust_verifier needs the AppView')
    await network.processAll()
    const res = await network.bsky.db.db
      .updateTable('actor')
      .set({ trustedVerifier: true })
      .where('did', '=', did)
      .executeTakeFirst()
    if (!Number(res.numUpdatedRows)) throw new Error(`the AppView has not indexed ${did}`)
    return {}
  },
  async handle_host({ suffix, url }) {
    if (!suffix?.startsWith('.')) throw new Error('suffix must start with a dot')
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error('url must be http://127.0.0.1:PORT')
    handleHosts.set(suffix, url)
    return {}
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
    searchService.close()
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
