// A real AT Protocol network for tweetchat's tests: a PLC directory, a PDS and an AppView
// (with its Ozone) in this one process, on loopback, against the machine's PostgreSQL.
//
//   node start.mjs <postgres-url> <schema> <plc-port> <pds-port> <pds-listen-port> <bsky-port> <ozone-port>
//
// <pds-port> is the port of the PDS's public URL, the one every DID document names; the PDS
// itself listens on <pds-listen-port>, and the caller puts its own HTTP proxy on <pds-port>
// in front of it, as a reverse proxy stands in front of a production PDS. So every client
// that follows a DID document (the bot after it logs in, the AppView fetching a repo) passes
// the caller's proxy, which can hold an answer back.
//
// Prints one JSON line with the servers' addresses once they answer, then runs until
// SIGTERM. The schema must be fresh (letters only): reusing one keeps the old posts.
import net from 'node:net'

const [dbPostgresUrl, schema, plcPort, pdsPort, pdsListenPort, bskyPort, ozonePort] =
  process.argv.slice(2)
if (!ozonePort || !/^[a-z]+$/.test(schema)) {
  console.error(
    'usage: node start.mjs <postgres-url> <letters-only schema> <plc> <pds> <pds-listen> <bsky> <ozone>',
  )
  process.exit(2)
}

// The PDS listens on the port its configuration names (its public URL's): it is moved to
// its own port here, behind the caller's proxy.
const served = (port) => (Number(port) === Number(pdsPort) ? Number(pdsListenPort) : port)

// The servers listen on every interface unless told otherwise; a test network must not be
// reachable from outside the machine. Every listen() without a host gets 127.0.0.1.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (args.length === 0 || typeof args[0] === 'function') {
    args.unshift({ port: 0, host: '127.0.0.1' })
  } else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    if (/^\d+$/.test(String(args[0]))) {
      args[0] = served(args[0])
      if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
    }
  } else if (args[0] && typeof args[0] === 'object' && !args[0].path) {
    args[0] = { ...args[0], host: args[0].host ?? '127.0.0.1' }
    if ('port' in args[0]) args[0].port = served(args[0].port)
  }
  return listen.apply(this, args)
}

// dev-env asserts that a Redis host is named, but 0.3.215 starts nothing that uses it.
process.env.REDIS_HOST ??= '127.0.0.1:6379'
const { TestNetwork } = await import('@atproto/dev-env')
const network = await TestNetwork.create({
  dbPostgresUrl,
  dbPostgresSchema: schema,
  plc: { port: Number(plcPort) },
  pds: { port: Number(pdsPort), hostname: 'localhost' },
  bsky: {
    port: Number(bskyPort),
    publicUrl: `http://localhost:${bskyPort}`,
    // The AppView's firehose subscription is a WebSocket, which the caller's proxy does
    // not relay: it reaches the PDS where it listens.
    repoProvider: `ws://localhost:${pdsListenPort}`,
  },
  ozone: { port: Number(ozonePort) },
})

console.log(
  JSON.stringify({
    plc: network.plc.url,
    pds: network.pds.url,
    bsky: network.bsky.url,
  }),
)

let closing = false
const close = async () => {
  if (closing) return
  closing = true
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', close)
process.on('SIGINT', close)
