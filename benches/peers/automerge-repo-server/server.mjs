// The automerge-repo sync server, set up as automerge-repo-sync-server does: a Repo with the
// NodeFS storage adapter and the WebSocket server adapter, which does not push documents to
// peers that did not ask (sharePolicy false); peers that sync a document get it.
//
// node server.mjs <listen host:port> <data dir>; prints `listening on <host:port>` when ready.
import fs from "node:fs"
import { WebSocketServer } from "ws"
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"

const [listen, dataDir] = process.argv.slice(2)
if (!listen || !dataDir) {
  console.error("usage: node server.mjs <host:port> <data dir>")
  process.exit(2)
}
const [host, port] = listen.split(":")
fs.mkdirSync(dataDir, { recursive: true })
const wss = new WebSocketServer({ host, port: Number(port), maxPayload: 64 * 1024 * 1024 })
new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dataDir),
  peerId: "automerge-repo-sync-server",
  sharePolicy: async () => false,
})
wss.on("listening", () => {
  const addr = wss.address()
  console.log(`listening on ${addr.address}:${addr.port}`)
})
process.on("SIGTERM", () => process.exit(0))
