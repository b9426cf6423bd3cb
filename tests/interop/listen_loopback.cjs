// Preload (`node --require listen_loopback.cjs server.js`) for an HTTP server that takes its port
// but not its address, such as server-everything (`app.listen(process.env.PORT || 3001)`, which
// binds every interface): a listen() without a host binds 127.0.0.1 instead, and once listening
// the address is written to stderr as
//   listen_loopback: listening on http://127.0.0.1:PORT
// so a test can start the server with PORT=0 and read the port the kernel chose (no free-port
// race). Listens on a path (Unix socket) or an explicit host are left alone.
"use strict";

const net = require("node:net");

const LOOPBACK = "127.0.0.1";
const originalListen = net.Server.prototype.listen;

function isPort(value) {
  return typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listen(...args) {
  if (args.length === 0 || typeof args[0] === "function") {
    args.unshift(0, LOOPBACK);  // listen([cb]): a random port
  } else if (isPort(args[0])) {
    if (typeof args[1] !== "string") args.splice(1, 0, LOOPBACK);  // listen(port[, backlog][, cb])
  } else if (args[0] && typeof args[0] === "object" && args[0].path === undefined
             && args[0].fd === undefined && args[0]._handle === undefined
             && args[0].handle === undefined && args[0].host === undefined) {
    args[0] = { ...args[0], host: LOOPBACK };  // listen({port, ...})
  }
  this.once("listening", () => {
    const address = this.address();
    if (address && typeof address === "object") {
      process.stderr.write(`listen_loopback: listening on http://${address.address}:${address.port}\n`);
    }
  });
  return originalListen.apply(this, args);
};
