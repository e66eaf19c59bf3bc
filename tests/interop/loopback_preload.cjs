// Preloaded into the Node peers (node --require): keeps them on loopback.
// - listen() always binds 127.0.0.1 (Portkey's gateway has no host option and binds all interfaces);
// - an outbound connection anywhere but loopback fails at once (no telemetry, no update checks,
//   nothing leaves the machine), and is written to stderr so the test log shows what was tried.
"use strict";
const net = require("net");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "::ffff:127.0.0.1"]);

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] !== null && typeof args[0] === "object" && !(args[0] instanceof net.Server)) {
    if (args[0].path === undefined) args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    if (typeof args[1] === "string") args[1] = "127.0.0.1";
    else args.splice(1, 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const opts = args[0] !== null && typeof args[0] === "object" ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : null;
  const host = opts ? opts.host : typeof args[1] === "string" ? args[1] : "localhost";
  const path = opts ? opts.path : undefined;
  if (path === undefined && host !== undefined && !LOOPBACK.has(String(host))) {
    process.stderr.write(`interop preload: blocked outbound connection to ${host}\n`);
    const err = new Error(`interop: outbound connection to ${host} blocked (loopback only)`);
    err.code = "ECONNREFUSED";
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};
