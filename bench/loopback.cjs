// Preloaded into the npm peers that listen on every interface (NODE_OPTIONS="--require
// bench/loopback.cjs": supergateway, mcp-hub): listen(port[, cb]) binds 127.0.0.1 instead.
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
